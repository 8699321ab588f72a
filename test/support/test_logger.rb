# frozen_string_literal: true

# A logger that keeps every line (at every level), so a test can assert on them.
class TestLogger
  attr_reader :lines

  def initialize
    @lines = []
    @lock = Mutex.new
  end

  %i[debug info warn error fatal].each do |level|
    define_method(level) do |message = nil, &block|
      message ||= block&.call
      @lock.synchronize { @lines << [level, message.to_s] }
      true
    end
  end

  %i[debug? info? warn? error? fatal?].each { |level| define_method(level) { true } }

  def at(level)
    @lock.synchronize { @lines.select { |l, _| l == level }.map(&:last) }
  end
end
