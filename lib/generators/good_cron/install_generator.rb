# frozen_string_literal: true

require "rails/generators"
require "rails/generators/active_record"

module GoodCron
  module Generators
    # `bin/rails generate good_cron:install`: a migration that creates the tables good_cron
    # shares with GoodJob where they are missing, and good_cron's own table. Its SQL is the gem's
    # lib/good_cron/schema.sql, copied into the migration so that the migration never changes
    # under a later gem version. Every statement is CREATE … IF NOT EXISTS: on a database GoodJob
    # set up it adds only good_cron's table. Rollback drops good_cron's table only.
    class InstallGenerator < ::Rails::Generators::Base
      include ::ActiveRecord::Generators::Migration

      SCHEMA = File.expand_path("../../good_cron/schema.sql", __dir__)

      source_root File.expand_path("templates", __dir__)
      desc "Creates a migration for GoodJob's tables and indexes (only those missing), which good_cron writes to, " \
           "and good_cron's own table."
      class_option :database, type: :string, aliases: %i[--db],
                              desc: "The database whose migrations folder gets the migration (multi-database apps)"

      def create_migration_file
        migration_template "install_good_cron.rb.erb", File.join(db_migrate_path, "install_good_cron.rb")
      end

      private

      def schema_sql
        File.read(SCHEMA).gsub(/^(?=.)/, "    ")
      end

      def migration_version
        "[#{ActiveRecord::VERSION::MAJOR}.#{ActiveRecord::VERSION::MINOR}]"
      end
    end
  end
end
