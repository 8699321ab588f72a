# frozen_string_literal: true

require_relative "test_helper"
require_relative "support/gem_commands"
require "fileutils"
require "tmpdir"

# The precompiled platform gem (`rake native:gem`) installs and runs on a machine without a
# Rust toolchain, with `gem install` and with Bundler; a checkout without a built library
# says what to run.
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
    build_platform_gem
    in_tmpdir do |tmp|
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

  # The README's two Gemfile lines for a vendored platform gem, with Bundler, without cargo.
  def test_an_app_bundles_the_platform_gem_from_vendor_cache
    build_platform_gem
    in_tmpdir do |app|
      FileUtils.mkdir_p(File.join(app, "vendor", "cache"))
      FileUtils.cp(GEM_FILE, File.join(app, "vendor", "cache"))
      library = bundle_and_probe(app, %(gem "good_cron", "#{GoodCron::VERSION}"))
      assert library.start_with?(File.join(app, "vendor", "bundle", "")), library
    end
  end

  def test_an_app_bundles_the_unpacked_platform_gem_by_path
    build_platform_gem
    in_tmpdir do |app|
      vendored = File.join(app, "vendor", "gems", File.basename(GEM_FILE, ".gem"))
      run!(*gem_command, "unpack", GEM_FILE, "--target", File.dirname(vendored))
      File.write(File.join(vendored, "good_cron.gemspec"), run!(*gem_command, "spec", GEM_FILE, "--ruby"))
      library = bundle_and_probe(app, %(gem "good_cron", path: "vendor/gems/#{File.basename(vendored)}"))
      assert library.start_with?(File.join(vendored, "")), library
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

  # `rake native:gem` once per run: it rebuilds the library only if cargo finds a change.
  def build_platform_gem
    @@platform_gem_built ||= run!(RbConfig.ruby, "-S", "rake", "native:gem")
  end

  def in_tmpdir(&block)
    Dir.mktmpdir("good_cron_platform_gem") { |tmp| block.call(File.realpath(tmp)) }
  end

  # Installs +app+'s one-line Gemfile with `bundle install --local` where cargo is absent,
  # checks `bundle exec` reads a schedule, and returns the path of the library it loaded.
  def bundle_and_probe(app, gemfile_line)
    File.write(File.join(app, "Gemfile"), "#{gemfile_line}\n")
    env = gem_env_without_cargo(File.join(app, "gem_home"), app).merge(
      "BUNDLE_GEMFILE" => File.join(app, "Gemfile"), "BUNDLE_PATH" => File.join(app, "vendor", "bundle")
    )
    bundle = [RbConfig.ruby, Gem.bin_path("bundler", "bundle")]
    run!(*bundle, "install", "--local", env: env, chdir: app)
    # The last two lines: Bundler may warn first (as root, it does).
    library, cron = run!(*bundle, "exec", "ruby", "-e", PROBE, env: env, chdir: app).lines.map(&:chomp).last(2)
    assert_equal "0 22 * * *", cron
    assert library.end_with?(File.join("lib", "good_cron", RUBY_MINOR, "good_cron.#{DLEXT}")), library
    library
  end

  # A checkout's lib/ and Rakefile, without the compiled library.
  def with_checkout_copy
    in_tmpdir do |checkout|
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
