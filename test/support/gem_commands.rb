# frozen_string_literal: true

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
  # (bin/test and the Rakefile set it), so a source-gem install reuses the dependencies
  # already compiled there.
  def gem_env(home)
    { "GEM_HOME" => home, "GEM_PATH" => home, "RUBYLIB" => nil, "RUBYOPT" => nil }
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
