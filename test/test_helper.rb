# frozen_string_literal: true

# ActiveSupport 6.1 (Debian's Rails) needs Logger loaded before it.
require "logger"
require "minitest/autorun"

$LOAD_PATH.unshift(File.expand_path("../lib", __dir__)) unless $LOAD_PATH.include?(File.expand_path("../lib", __dir__))
require "good_cron"

require_relative "support/database"

# Runs a block with the process zone (ENV["TZ"]) set to +name+ (nil: unset), restoring it after.
module ProcessZone
  module_function

  def with_tz(name)
    saved = ENV["TZ"]
    name.nil? ? ENV.delete("TZ") : ENV["TZ"] = name
    yield
  ensure
    ENV["TZ"] = saved
  end
end
