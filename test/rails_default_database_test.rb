# frozen_string_literal: true

require_relative "test_helper"
require_relative "support/poller_app"

# In any process of a Rails app (here `rails runner`, as a console would), the engines'
# default database is the app's ActiveRecord database, with no DATABASE_URL set.
class RailsDefaultDatabaseTest < Minitest::Test
  include TestDatabase::Helper
  include PollerApp::OwnDatabaseFixture

  def test_scheduler_and_poller_default_to_active_records_database_in_a_runner
    url = URI.parse(database.url)
    File.write(File.join(@app.path, "config/database.yml"), <<~YAML)
      production:
        adapter: postgresql
        host: #{url.host}
        port: #{url.port}
        username: #{url.user}
        database: #{database.name}
    YAML
    code = <<~RUBY
      scheduler = GoodCron::Scheduler.new(Rails.application.config.good_job[:cron])
      puts "SCHEDULER \#{scheduler.database_url} \#{scheduler.entries.map(&:key).join(",")}"
      puts "POLLER \#{GoodCron::Poller.new.database_url}"
    RUBY
    output, status = @app.rails("runner", code, env: { "DATABASE_URL" => nil })
    assert status.success?, output
    # database.yml's, as the Railtie builds it (the user may be in the query)
    expected = %r{postgres://\S*#{Regexp.escape("#{url.host}:#{url.port}/#{database.name}")}\S*}
    assert_match(/^SCHEDULER #{expected} heartbeat,report$/, output)
    assert_match(/^POLLER #{expected}$/, output)
  end
end
