# frozen_string_literal: true

module GoodCron
  VERSION = "0.1.0"
end
