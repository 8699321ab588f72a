# frozen_string_literal: true

require "digest"
require "fileutils"

# fugit's answers for schedule_fugit_test.rb, kept in tmp/fugit_cache between runs: computing
# them is most of that test's time (fugit takes up to 30 ms a step), and fugit's answers to the
# same questions do not change. The key digests everything they depend on: the test and its
# corpus (the runner, the schedules, zones and instants), the budget, fugit's, et-orbi's and
# tzinfo's versions and the zone data's; a change to any of them asks fugit again. Our side is
# computed afresh every run. Remove tmp/fugit_cache to ask fugit again anyway.
module FugitCache
  DIR = File.expand_path("../../tmp/fugit_cache", __dir__)
  SOURCES = [File.expand_path("../schedule_fugit_test.rb", __dir__), File.expand_path("fugit_corpus.rb", __dir__)].freeze

  module_function

  # The answers stored under +name+ and +parameters+, else the block's, stored for next time.
  def fetch(name, *parameters)
    path = File.join(DIR, "#{name}-#{key(parameters)}.marshal")
    stored = File.exist?(path) && load(path)
    return stored if stored

    answers = yield
    FileUtils.mkdir_p(DIR)
    # Written whole, then renamed: a run beside this one reads all of it or nothing.
    File.binwrite("#{path}.#{Process.pid}", Marshal.dump(answers))
    File.rename("#{path}.#{Process.pid}", path)
    answers
  end

  def load(path)
    Marshal.load(File.binread(path))
  rescue StandardError
    nil
  end

  def key(parameters)
    Digest::SHA256.hexdigest(Marshal.dump([SOURCES.map { |file| File.read(file) }, parameters, Fugit::VERSION,
                                           EtOrbi::VERSION, TZInfo::VERSION, zone_data]))
  end

  # The version line of the zone data tzinfo reads (the system's zoneinfo), else its source.
  def zone_data
    source = TZInfo::DataSource.get
    dir = source.respond_to?(:zoneinfo_dir) && source.zoneinfo_dir
    version = dir && File.join(dir, "tzdata.zi")
    File.exist?(version.to_s) ? File.foreach(version).first : source.inspect
  end
end
