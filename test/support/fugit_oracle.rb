# frozen_string_literal: true

# The fugit 1.14 oracle (test/fixtures/fugit-1.14/, see its README): what fugit 1.14.0 makes of
# each schedule of corpus.txt under TZ=UTC.
module FugitOracle
  DIR = File.expand_path("../fixtures/fugit-1.14", __dir__)

  # One line of fugit-1.14.tsv. cron is fugit's to_cron_s, nil where fugit 1.14 reads no cron
  # (INVALID); then reference and nexts (three ISO 8601 UTC strings) are nil too.
  Row = Struct.new(:schedule, :cron, :reference, :nexts, :line)

  module_function

  # The rows, in file order; lines starting with "#" are comments.
  def rows
    @rows ||= File.readlines(File.join(DIR, "fugit-1.14.tsv"), chomp: true).each_with_index.filter_map do |text, i|
      next if text.start_with?("#")

      schedule, cron, reference, nexts = text.split("\t", -1)
      raise "fugit-1.14.tsv line #{i + 1}: 4 tab-separated fields expected: #{text.inspect}" if nexts.nil?

      if cron == "INVALID"
        Row.new(schedule, nil, nil, nil, i + 1)
      else
        Row.new(schedule, cron, reference, nexts.split(" "), i + 1)
      end
    end.freeze
  end

  # schedule => to_cron_s (nil: INVALID), for every schedule of the oracle.
  def to_cron_s
    @to_cron_s ||= rows.to_h { |row| [row.schedule, row.cron] }.freeze
  end

  # The non-comment lines of corpus.txt.
  def corpus
    @corpus ||= File.readlines(File.join(DIR, "corpus.txt"), chomp: true).reject { |s| s.start_with?("#") }.freeze
  end
end
