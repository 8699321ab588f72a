# frozen_string_literal: true

require "fileutils"
require "open3"
require "rbconfig"

# Runs gem and ruby as a user of an installed good_cron would: in another process that sees
# only a given GEM_HOME, never this repository's lib/. For the tests that build and install
# the gems.
module GemCommands
  ROOT = File.expand_path("../..", __dir__)

  def gem_command
    gem = File.join(RbConfig::CONFIG["bindir"], "gem")
    File.exist?(gem) ? [RbConfig.ruby, gem] : ["gem"]
  end

  # Only +home+; no -I or RUBYLIB pointing at this repository. CARGO_TARGET_DIR is inherited
  # (bin/test and the Rakefile set it).
  def gem_env(home)
    { "GEM_HOME" => home, "GEM_PATH" => home, "RUBYLIB" => nil, "RUBYOPT" => nil }
  end

  # gem_env for a source-gem install that builds in a cargo target dir of its own, beside the
  # shared one (CARGO_TARGET_DIR), made once from a copy of the shared one's release builds so
  # that the dependencies are not compiled again. Not in the shared one: the library built there
  # from the installed gem's folder would replace the checkout's, which the next `rake compile`
  # would then build again.
  def gem_env_with_own_target(home)
    shared = ENV.fetch("CARGO_TARGET_DIR", nil)
    return gem_env(home) unless shared

    own = "#{shared}-gem-install"
    unless File.directory?(own)
      copy = "#{own}.#{Process.pid}"
      FileUtils.mkdir_p(copy)
      release = File.join(shared, "release")
      FileUtils.cp_r(release, copy, preserve: true) if File.directory?(release)
      File.rename(copy, own)
    end
    gem_env(home).merge("CARGO_TARGET_DIR" => own)
  end

  # gem_env on a machine without a Rust toolchain: PATH without the folders that hold cargo
  # or rustc, and a HOME (+user_home+) with no ~/.cargo/bin for a build to fall back on.
  def gem_env_without_cargo(home, user_home)
    path = ENV.fetch("PATH").split(File::PATH_SEPARATOR).reject do |dir|
      %w[cargo rustc].any? { |tool| File.executable?(File.join(dir, tool)) }
    end
    gem_env(home).merge(
      "PATH" => path.join(File::PATH_SEPARATOR), "HOME" => user_home,
      "CARGO_HOME" => nil, "RUSTUP_HOME" => nil, "CARGO" => nil
    )
  end

  def run!(*cmd, env: {}, chdir: ROOT)
    out, status = Open3.capture2e(env, *cmd, chdir: chdir)
    assert status.success?, "#{cmd.join(" ")} failed (#{status}):\n#{out}"
    out
  end
end
