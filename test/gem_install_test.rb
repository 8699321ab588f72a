# frozen_string_literal: true

require_relative "test_helper"
require_relative "support/gem_commands"
require "tmpdir"

# Builds the gem, installs it into a temporary GEM_HOME (which compiles the
# extension with cargo through ext/good_cron/extconf.rb), and requires it from
# there in a fresh Ruby that does not see this repository's lib/.
class GemInstallTest < Minitest::Test
  include GemCommands

  SCHEDULE = "*/5 * * * *"

  # Prints the files it loaded and a schedule evaluated by the installed engine.
  PROBE = <<~RUBY
    require "good_cron"
    puts $LOADED_FEATURES.grep(%r{/good_cron\\.rb\\z}).first
    puts $LOADED_FEATURES.grep(%r{/good_cron/good_cron\\.#{RbConfig::CONFIG["DLEXT"]}\\z}).first
    puts GoodCron::VERSION
    puts GoodCron::Schedule.parse(#{SCHEDULE.dump}).to_cron
    puts GoodCron::NativePoller.method_defined?(:take)
  RUBY

  def test_gem_installs_and_loads_from_its_gem_home
    Dir.mktmpdir("good_cron_gem") do |tmp|
      tmp = File.realpath(tmp)
      home = File.join(tmp, "gem_home")
      gem_file = File.join(tmp, "good_cron.gem")

      run!(*gem_command, "build", "good_cron.gemspec", "--output", gem_file, chdir: ROOT)
      run!(*gem_command, "install", "--local", "--no-document", "--install-dir", home, gem_file,
           env: gem_env_with_own_target(home), chdir: tmp)

      out = run!(RbConfig.ruby, "-e", PROBE, env: gem_env(home), chdir: tmp)
      rb_file, ext_file, version, cron, poller = out.lines.map(&:chomp)
      assert_equal GoodCron::VERSION, version
      assert_equal "true", poller, "the installed extension has the poller:\n#{out}"
      # The installed gem reads the schedule exactly as this checkout does.
      assert_equal GoodCron::Schedule.parse(SCHEDULE).to_cron, cron, out
      [rb_file, ext_file].each do |path|
        refute_empty path.to_s, "good_cron was not loaded as a file:\n#{rb_file}\n#{ext_file}"
        assert path.start_with?("#{home}/"), "#{path} was loaded from outside the temporary GEM_HOME #{home}"
      end
    end
  end
end
