# frozen_string_literal: true

require "rbconfig"
require_relative "errors" # the classes the extension raises
require_relative "events" # the classes the extension builds

module GoodCron
  # Loads the Rust extension: the platform gem's build for this Ruby
  # (lib/good_cron/RUBY_MAJOR.MINOR/, the layout rb-sys gems use) if there is one, otherwise
  # the one `rake compile` or a source-gem install built (good_cron/good_cron).
  module Native
    RUBY_MINOR = RUBY_VERSION[/\A\d+\.\d+/]
    FEATURES = ["good_cron/#{RUBY_MINOR}/good_cron", "good_cron/good_cron"].freeze
    CHECKOUT = File.expand_path("../..", __dir__)

    def self.require_library
      feature = FEATURES.find { |name| $LOAD_PATH.resolve_feature_path(name) }
      raise LoadError, not_built_message unless feature

      require feature
    end

    # Says what to run: Bundler builds no extension for a `path:` checkout, so it has no
    # library until `rake compile`.
    def self.not_built_message
      dlext = RbConfig::CONFIG["DLEXT"]
      looked_at = FEATURES.map { |name| "  #{File.join(CHECKOUT, "lib", "#{name}.#{dlext}")}" }
      <<~MESSAGE.chomp
        good_cron's native extension is not built for Ruby #{RUBY_VERSION} (#{RUBY_PLATFORM}). Looked for:
        #{looked_at.join("\n")}
        and for #{FEATURES.join(" and ")} on the rest of $LOAD_PATH.
        In a checkout (a Gemfile path: or git: source), build it once (needs cargo; a few minutes):
          cd #{CHECKOUT} && rake compile
        Or install the precompiled gem for Ruby #{RUBY_MINOR} (no cargo needed to install it), built where cargo is:
          rake native:gem && gem install pkg/good_cron-#{GoodCron::VERSION}-#{Gem::Platform.local}.gem
      MESSAGE
    end
  end
end

GoodCron::Native.require_library
