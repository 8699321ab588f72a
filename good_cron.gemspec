# frozen_string_literal: true

require_relative "lib/good_cron/version"

Gem::Specification.new do |spec|
  spec.name = "good_cron"
  spec.version = GoodCron::VERSION
  spec.authors = ["good_cron contributors"]
  spec.license = "MIT"
  spec.summary = "Exactly-once cron for GoodJob's configuration, with a Rust engine"
  spec.description = <<~DESC
    good_cron reads a GoodJob cron configuration (cron syntax and fugit's natural language,
    with time zones) and enqueues each scheduled run exactly once across every process
    sharing a PostgreSQL database, with no duplicate-key errors, catch-up of missed runs and
    a fixed DST policy; an ActiveJob adapter and `good_cron start` run the jobs on GoodJob's
    tables, alongside GoodJob's own workers. Its engine is a Rust native extension.
    This source gem compiles the extension with cargo at install (Ruby headers, libclang and a
    Rust toolchain); the platform gem that `rake native:gem` builds holds it precompiled for one
    Ruby minor and installs without them.
  DESC
  spec.required_ruby_version = ">= 3.1"

  # What `gem install` builds and loads, and no more; benches/schedule.rs because Cargo.toml
  # declares it, and cargo refuses a manifest whose bench file is missing.
  spec.files = Dir.chdir(__dir__) do
    Dir[
      "README.md", "LICENSE", "Cargo.toml", "Cargo.lock", "exe/good_cron",
      "lib/**/*.{rb,sql,erb}",
      "src/**/*.rs", "benches/schedule.rs",
      "ext/good_cron/extconf.rb", "ext/good_cron/Cargo.toml", "ext/good_cron/src/**/*.rs"
    ]
  end
  spec.bindir = "exe"
  spec.executables = ["good_cron"]
  spec.require_paths = ["lib"]
  spec.extensions = ["ext/good_cron/extconf.rb"]
end
