# frozen_string_literal: true

require_relative "test_helper"
require_relative "support/gem_commands"
require "fileutils"
require "tmpdir"

# The precompiled platform gem (`rake native:gem`) installs and runs on a machine without a
# Rust toolchain; a checkout without a built library says what to run.
class PlatformGemTest < Minitest::Test
  include GemCommands

  RUBY_MINOR = RUBY_VERSION[/\A\d+\.\d+/]
  DLEXT = RbConfig::CONFIG["DLEXT"]
  GEM_FILE = File.join(ROOT, "pkg", "good_cron-#{GoodCron::VERSION}-#{Gem::Platform.local}.gem")

  # Prints the library it loaded and a schedule read by it.
  PROBE = <<~RUBY
    require "good_cron"
    puts $LOADED_FEATURES.grep(%r{/good_cron\\.#{DLEXT}\\z})
    puts GoodCron::Schedule.parse("every day at 10pm").to_cron
  RUBY

  def test_platform_gem_installs_without_cargo_and_loads_its_library
    run!(RbConfig.ruby, "-S", "rake", "native:gem")
    Dir.mktmpdir("good_cron_platform_gem") do |tmp|
      tmp = File.realpath(tmp)
      home = File.join(tmp, "gem_home")
      env = gem_env_without_cargo(home, tmp)
      assert_equal "no cargo\n", run!("sh", "-c", "command -v cargo rustc || echo no cargo", env: env, chdir: tmp)

      run!(*gem_command, "install", "--local", "--no-document", "--install-dir", home, GEM_FILE, env: env, chdir: tmp)

      spec = Gem::Specification.load(File.join(home, "specifications", "#{File.basename(GEM_FILE, ".gem")}.gemspec"))
      assert_equal Gem::Platform.local, spec.platform
      assert_empty spec.extensions, "the platform gem builds nothing at install"
      assert_empty Dir[File.join(home, "extensions", "**", "*.#{DLEXT}")], "nothing was compiled at install"
      assert spec.required_ruby_version.satisfied_by?(Gem::Version.new(RUBY_VERSION))
      refute spec.required_ruby_version.satisfied_by?(Gem::Version.new("#{RUBY_MINOR.succ}.0")),
             "a library built for Ruby #{RUBY_MINOR} is no use to the next minor"
      refute_includes spec.files, "Cargo.toml"

      library = File.join(spec.gem_dir, "lib", "good_cron", RUBY_MINOR, "good_cron.#{DLEXT}")
      assert_equal "#{library}\n0 22 * * *\n", run!(RbConfig.ruby, "-e", PROBE, env: env, chdir: tmp)
    end
  end

  def test_a_checkout_without_the_library_says_what_to_run
    with_checkout_copy do |checkout|
      out = require_fails(checkout)
      assert_includes out, "(LoadError)"
      assert_includes out, "not built for Ruby #{RUBY_VERSION}"
      assert_includes out, File.join(checkout, "lib", "good_cron", RUBY_MINOR, "good_cron.#{DLEXT}")
      assert_includes out, File.join(checkout, "lib", "good_cron", "good_cron.#{DLEXT}")
      assert_includes out, "cd #{checkout} && rake compile"
      assert_includes out, "rake native:gem && gem install pkg/#{File.basename(GEM_FILE)}"
    end
  end

  # A library that is there but cannot load gives dlopen's own error, not "not built".
  def test_a_library_that_does_not_load_reports_its_own_error
    with_checkout_copy do |checkout|
      broken = File.join(checkout, "lib", "good_cron", "good_cron.#{DLEXT}")
      File.write(broken, "not a shared library")
      out = require_fails(checkout)
      assert_includes out, broken
      refute_includes out, "not built"
    end
  end

  private

  # A checkout's lib/ and Rakefile, without the compiled library.
  def with_checkout_copy
    Dir.mktmpdir("good_cron_checkout") do |tmp|
      checkout = File.realpath(tmp)
      FileUtils.cp(File.join(ROOT, "Rakefile"), checkout)
      FileUtils.cp_r(File.join(ROOT, "lib"), checkout)
      FileUtils.rm(Dir[File.join(checkout, "lib", "**", "*.#{DLEXT}")])
      yield checkout
    end
  end

  def require_fails(checkout)
    home = File.join(checkout, "gem_home")
    out, status = Open3.capture2e(gem_env(home), RbConfig.ruby, "-I", File.join(checkout, "lib"),
                                  "-e", 'require "good_cron"', chdir: checkout)
    refute status.success?, "require succeeded without a library:\n#{out}"
    out
  end
end
