# frozen_string_literal: true

# The schedules, zones and reference instants of the differential test against Debian's fugit
# 1.5.2 (test/schedule_fugit_test.rb).
#
# GoodJob 4.x users have fugit >= 1.11, whose readings the fugit 1.14 oracle test pins down
# (test/schedule_oracle_test.rb). 1.5.2 is kept only for the readings it shares with 1.14: an
# entry that 1.14 reads otherwise does not belong here (its 1.14 reading is in
# test/schedule_nat_test.rb), and the test checks every entry the oracle has against it.
#
# Every CRON / ZONED / NAT entry parses with fugit 1.5.2 as a Fugit::Cron (the test checks it)
# and none uses one of the intentional differences listed in README (DST days, several `#`
# entries for one weekday, a day-of-month missing from a listed month while the weekday is
# also restricted, @alias with a zone, multi-line natural language, `*/0`, descending weekday
# range with a step, surrounding whitespace). Those are covered by schedule_api_test.rb.
module FugitCorpus
  # 5- and 6-field cron without a zone: evaluated in the process zone (ENV["TZ"]).
  CRON = [
    # plain fields
    "* * * * *", "0 * * * *", "30 * * * *", "59 * * * *", "0 0 * * *", "0 12 * * *",
    "30 2 * * *", "30 1 * * *", "59 23 * * *", "0 9 * * *", "45 17 * * *", "7 3 * * *",
    "0 0 1 1 *", "59 23 31 12 *", "0 0 1 * *", "0 12 15 * *", "1 1 1 1 *", "0 6 10 10 *",
    # leading zeros, hour 24
    "00 09 * * *", "05 07 01 01 *", "0 24 * * *", "0 08 * 09 *",
    # lists
    "0,30 * * * *", "10,20,30 * * * *", "1,2,3,5,8,13,21,34,55 * * * *", "0 0,12 * * *",
    "0 6,18 * * *", "15 9,12,15,18 * * *", "0 0 1,15 * *", "0 0 1,10,20 * *",
    "0 0 5,10,15,20,25,30 * *", "0 0 1 1,4,7,10 *", "0 12 1 6,12 *", "30 8 * * 1,3,5",
    "0 0 * * 0,6", "58,59 23 * * *",
    # ranges
    "0-29 * * * *", "30-59 * * * *", "0 9-17 * * *", "0 0-5 * * *", "15 20-23 * * *",
    "0 0 1-7 * *", "0 0 10-20 * *", "0 0 28-31 * *", "0 12 * 3-5 *", "0 12 * 6-8 *",
    "0 9 * * 1-5", "0 9 * * 0-6", "0 9 * * 2-4", "1-5,10-15,58 * * * *",
    "0 0 1-3,15,28-31 * *",
    # wrap-around ranges
    "0 22-2 * * *", "0 23-1 * * *", "30 20-4 * * *", "50-10 * * * *", "0 0 25-5 * *",
    "0 0 30-2 * *", "0 0 1 11-2 *", "0 0 1 10-3 *", "0 9 * * 5-1", "0 9 * * 6-0",
    "0 9 * * sat-sun", "0 9 * * fri-mon",
    # steps
    "*/5 * * * *", "*/15 * * * *", "*/7 * * * *", "*/13 * * * *", "*/30 * * * *",
    "*/59 * * * *", "5-55/10 * * * *", "/15 * * * *", "/20 * * * *", "5/10 * * * *",
    "7/15 * * * *", "0-30/10 * * * *", "50-10/7 * * * *", "40-20/11 * * * *",
    "0 */2 * * *", "0 */3 * * *", "0 */5 * * *", "0 */12 * * *", "0 1-23/2 * * *",
    "0 20-4/3 * * *", "0 /4 * * *", "0 6/6 * * *", "15 */6 * * *", "0 0 */2 * *",
    "0 0 */10 * *", "0 0 1-31/7 * *", "0 0 5/9 * *", "0 0 1 */2 *", "0 0 1 */3 *",
    "0 0 1 2-12/2 *", "0 0 1 /4 *", "0 9 * * */2", "0 9 * * 1-5/2", "0 9 * * 0-6/3",
    "0 0,12 1 */2 *", "23 0-20/2 * * *", "*/1 * * * *", "0 */1 * * *",
    # month names, any case
    "0 0 1 jan *", "0 0 1 JAN *", "0 0 1 Jan,Jul *", "0 0 1 mar-may *", "0 0 1 Nov-Feb *",
    "0 0 15 sep,oct,nov *", "0 12 * dec *", "0 12 * feb *", "0 12 * aug-sep *",
    "0 0 1 jan-dec/3 *",
    # weekday names, any case, Sunday as 0 or 7
    "0 0 * * 0", "0 0 * * 7", "0 0 * * sun", "0 0 * * SUN", "0 0 * * Sun", "0 0 * * sat,sun",
    "0 9 * * mon-fri", "0 9 * * MON-FRI", "0 9 * * mon,wed,fri", "0 9 * * Tue-Thu",
    "0 9 * * 7,1", "0 9 * * 5-7", "0 9 * * 1-7", "30 6 * * sat", "0 18 * * thu",
    # day-of-month and day-of-week together: either matches when both are restricted
    "0 0 13 * 5", "0 0 13 * fri", "30 4 1,15 * 5", "0 0 1 * mon", "0 9 15 * sat,sun",
    "0 0 */2 * mon", "0 0 1-7 * 1", "0 12 29 2 1", "0 0 31 * 1", "0 8 20-25 6 wed",
    "0 0 L * fri", "0 12 -1 * 0",
    # last day and days from the end
    "0 0 L * *", "0 0 l * *", "0 0 last * *", "0 0 -1 * *", "0 12 -2 * *", "0 12 -7 * *",
    "0 12 -7--1 * *", "0 12 -3--2 * *", "0 0 L,15 * *", "0 0 1,L * *", "0 12 -3 2 *",
    "30 12 L 2 *", "0 0 L 4,6,9,11 *", "0 12 15-L * *", "0 0 -1 1,3 *",
    "59 23 L 12 *",
    # short months, leap days
    "0 0 29 2 *", "0 12 28 2 *", "0 0 29,30 * *", "0 0 30 * *", "0 0 31 * *",
    "0 0 31 1,3,5,7,8,10,12 *", "0 0 30 4,6,9,11 *", "0 0 31 2,3 *", "12 12 29 2 *",
    # nth weekday of the month (hours 1..22: fugit counts weeks in elapsed seconds, which
    # shifts by the DST offset near midnight)
    "0 9 * * mon#1", "0 9 * * 1#2", "0 9 * * fri#-1", "0 9 * * fri#L", "0 9 * * fri#last",
    "0 9 * * sun#5", "0 9 * * thu#4", "0 9 * * tue#-2", "0 9 * * wed#3,fri#1",
    "0 9 * * 0#1", "0 9 * * 7#1", "0 9 * 1,4,7,10 mon#1", "30 14 * * sat#-1",
    "0 12 * * mon#5", "0 12 * * sun#-5", "0 10 * * wed#2,sat#-1", "0 9 * feb sun#-1",
    "0 9 1 * mon#3", "0 12 * * MON#1",
    # every nth week, fugit's % (week number since 2019-01-01)
    "0 9 * * 1%2", "0 9 * * mon%2", "0 9 * * 1%2+1", "0 12 * * fri%3",
    "0 12 * * 2%2,4%2+1",
    # 6 fields, seconds first
    "* * * * * *", "0 * * * * *", "30 * * * * *", "*/5 * * * * *", "*/10 * * * * *",
    "*/15 * * * * *", "0,30 * * * * *", "15-45/5 * * * * *", "/20 * * * * *",
    "5/20 * * * * *", "50-10 * * * * *", "45 59 23 * * *", "1 0 0 * * *", "59 59 23 31 12 *",
    "30 30 12 * * mon-fri", "0 0 12 L * *", "10 0 9 * * mon#2", "*/30 */5 * * * *",
    "0 */2 * * * *", "0 0 */6 * * *", "7 7 7 7 7 *", "0,15,30,45 0 0 1 * *",
    "58,59 59 23 * * *", "* 0 0 1 1 *", "0-4 0 0 * * *",
    # quoted through fugit's SPECIALS table
    "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@noon", "@hourly",
    # tabs and repeated spaces between fields
    "0  9  *  *  *", "0\t9\t*\t*\t1-5", "*/5 \t* * * *",
  ].freeze

  # Cron with a zone suffix: IANA names in many zones, links, and offsets fugit reads.
  ZONED = [
    "0 9 * * * America/New_York", "30 2 * * * America/New_York", "0 0 1 * * America/New_York",
    "*/15 * * * * America/New_York", "0 9 * * mon-fri America/Chicago",
    "0 17 * * * America/Denver", "0 8 * * * America/Phoenix", "0 6 * * * America/Los_Angeles",
    "0 0 L * * America/Los_Angeles", "0 9 * * * America/Anchorage", "0 12 * * * Pacific/Honolulu",
    "30 9 * * * America/St_Johns", "0 0 * * * America/St_Johns", "0 12 * * * America/Halifax",
    "0 9 * * * America/Sao_Paulo", "0 0 * * * America/Sao_Paulo", "0 9 * * * America/Santiago",
    "0 0 1 * * America/Santiago", "0 9 * * * America/Argentina/Buenos_Aires",
    "0 9 * * * America/Mexico_City", "0 0 * * * America/Havana", "0 12 * * * America/Bogota",
    "0 9 * * * Europe/London", "30 1 * * * Europe/London", "0 0 L * * Europe/London",
    "0 9 * * * Europe/Paris", "0 0 1 1 * Europe/Paris", "15 3 * * * Europe/Berlin",
    "0 9 * * * Europe/Dublin", "0 9 * * * Europe/Lisbon", "0 9 * * 1#1 Europe/Madrid",
    "0 9 * * * Europe/Moscow", "0 9 * * * Europe/Istanbul", "0 9 * * * Europe/Kyiv",
    "0 9 * * * Europe/Helsinki", "0 9 * * * Africa/Cairo", "0 9 * * * Africa/Casablanca",
    "0 9 * * * Africa/Johannesburg", "0 9 * * * Africa/Lagos", "0 9 * * * Asia/Tehran",
    "0 9 * * * Asia/Dubai", "0 9 * * * Asia/Karachi", "0 9 * * * Asia/Kolkata",
    "30 9 * * * Asia/Kolkata", "0 0 29 2 * Asia/Kolkata", "0 9 * * * Asia/Kathmandu",
    "45 23 * * * Asia/Kathmandu", "0 9 * * * Asia/Dhaka", "0 9 * * * Asia/Yangon",
    "0 9 * * * Asia/Bangkok", "0 9 * * * Asia/Shanghai", "0 9 * * * Asia/Singapore",
    "0 9 * * * Asia/Tokyo", "0 0 1 1 * Asia/Tokyo", "*/10 * * * * * Asia/Tokyo",
    "0 9 * * * Asia/Seoul", "0 9 * * * Asia/Jerusalem", "0 9 * * * Australia/Perth",
    "0 9 * * * Australia/Eucla", "0 9 * * * Australia/Darwin", "0 9 * * * Australia/Adelaide",
    "0 9 * * * Australia/Sydney", "0 0 1 * * Australia/Sydney", "0 9 * * * Australia/Lord_Howe",
    "30 2 * * * Australia/Lord_Howe", "0 * * * * Australia/Lord_Howe",
    "0 9 * * * Pacific/Auckland", "0 9 * * * Pacific/Chatham", "45 12 * * * Pacific/Chatham",
    "0 9 * * * Pacific/Apia", "0 9 * * * Pacific/Kiritimati", "0 9 * * * Pacific/Pago_Pago",
    "0 9 * * * Pacific/Marquesas", "0 9 * * * Antarctica/Troll", "0 9 * * * Atlantic/Azores",
    "0 0 * * * UTC", "0 0 1 1 * UTC", "*/5 * * * * UTC", "0 9 * * * Etc/UTC",
    "0 0 * * * Etc/GMT+5", "0 0 * * * Etc/GMT-14", "0 12 * * * Etc/GMT+12",
    "0 9 * * * US/Eastern", "0 9 * * * Asia/Calcutta", "0 9 * * * Japan", "0 9 * * * EST5EDT",
    "0 9 * * * +05:30", "0 9 * * * -03:00", "0 0 * * * +0545", "0 12 * * * -11:00",
    "0 12 * * * +11:45", "0 0 L * * +09:30", "30 23 * * * -01:00",
    "0 9 * * mon-fri Europe/London", "0 0 13 * fri America/New_York", "30 12 L 2 * Europe/Paris",
    "0 9 * * fri#-1 Asia/Tokyo", "0 9 * * 1%2 Asia/Kolkata", "*/30 * * * * * UTC",
    "0 30 9 * * 1-5 America/Los_Angeles",
  ].freeze

  # Natural language, as fugit 1.5.2 and 1.14 read it (results that are plainly sensible). None
  # has an am/pm after hh:mm, 12am or "twelve am", where 1.5.2 and 1.14 part; 54 are in the
  # oracle, the others are forms its grammar reads the same (digits, word hours, in/on zones).
  NAT = [
    "every second", "every 1 second", "every 10 seconds", "every 30 seconds", "every 15s",
    "every 20s", "every 15 sec", "every minute", "every 1 minute", "every 2 minutes",
    "every 5 minutes", "every 5m", "every 5 min", "every 10m", "every 30 min", "every hour",
    "every 1 hour", "every 1 h", "every 2h", "every 3h", "every 3 hours", "every 6 hours",
    "every 12 hours", "every day", "every 1 day", "every 2 days", "every 3 days", "every 2d",
    "every week", "every 1 week", "every month", "every 1 month", "every 2 months",
    "every 3 months", "every 4M", "every 6M", "every year", "every year at noon",
    "every day at noon", "every day at midnight", "every day at five", "every day at three",
    "every day at 5pm", "every day at 5 pm", "every day at five pm", "every day at 5 PM",
    "every day at 17:30", "every day at 16:30", "every day at 0:15", "every day at 00:15",
    "every day at 9:05 am", "every day at 24:00", "every day at six thirty pm",
    "every day at twelve thirty pm", "every day at noon and midnight",
    "every day at 1am, 2am and 3am", "every day at 5pm and 6pm", "every weekday at five",
    "every weekday at 9:30am", "every weekday at noon and midnight", "every monday at 9am",
    "every tuesday at 5 pm", "every wed at 5 pm", "every TUESDAY at 7AM",
    "every tuesday and friday at 11:00", "every tuesday and monday at 5pm",
    "every wed or Monday at 5pm and 11", "every saturday and sunday at 10",
    "every sat,sun at 10:30", "every tue,thu at seven", "every tuesday, thursday at 7am",
    "every monday and wednesday and friday at 6am", "every Monday through Friday at 8:45",
    "every mon-fri at 8:45", "every Fri-Sun at 5", "every fri to sun at 9",
    "from mon to fri at 08:00", "from Monday to Friday at 9am",
    "from monday to friday at 9am and 5pm", "at 9am every weekday", "at 12:00 every day",
    "every sunday at midnight", "every sunday at 23:59", "every saturday at 0:00",
    "every monday at midnight and noon", "every week at 9am", "every week on monday 18:23",
    "every 1st of the month", "every first of the month", "every 1st of the month at midnight",
    "every 2nd of the month at 3pm", "every 15th of the month", "every 15th of the month at 7:30",
    "every twenty-first of the month", "every 31st of the month", "every last of the month",
    "every last of the month at 23:00", "every month on the 1st at 9am",
    "every month on the 15th at noon", "every month on the first and fifteenth at noon",
    "every month on day 2 at 10:00", "every month on day 2 and 5 at 10:00",
    "every month on days 1,15 at 10:00", "every month on days 1 and 15",
    "every hour at minute 30", "every hour on minute 15", "every hour on minute 15 and 45",
    "every day at minute 5 and 35", "every 2 hours at minute 15", "every 4 hours on minute 30",
    "every day from 9am to 5pm", "every weekday from 9 to 17", "every day from 8:00 to 18:00",
    "every minute from 9am to 5pm", "every 5 minutes from 9am to 5pm",
    "every day at 5 pm on America/Los_Angeles", "every day at noon in Asia/Tokyo",
    "every day at noon in America/New_York", "every day at 7am in Asia/Kolkata",
    "every day at 7am Asia/Kathmandu", "every day at 18:00 Europe/Paris",
    "every day at 18:00 UTC", "every thursday at 13:00 UTC", "every day at 7am +05:45",
    "every day at 7am -03:30", "every weekday at 9am on Europe/London",
    "every weekday at 17:45 on America/Chicago", "every day at 12:30 on Australia/Lord_Howe",
    "every day at 2:30 on America/New_York", "every day from 9am to 5pm on Europe/Paris",
  ].freeze

  # fugit reads these in ways a user would not expect ("on the hour" as minute `*` of hour 0,
  # a step larger than its field, `1/2` in the weekday field meaning the single day, hours
  # named in "at hour 5" dropped, "every 61 minutes", ...). GoodJob users get exactly this, so
  # we follow; they are compared in a test of their own so that the decision is visible.
  # Dropped because fugit 1.14 reads them otherwise (schedule_nat_test.rb has its readings):
  # "every friday at 4:45pm", "every day at 11:59pm" (1.5.2 ignored pm after hh:mm),
  # "every day at 12am", "every day at twelve am" (1.5.2: noon), "5/1 * * * *" (1.5.2: minute
  # 5; 1.14: 5 to 59), "every 1st and 15th of the month" (1.5.2 kept only the 1st), "0 12 1-L
  # * *" (1.14: a whole-month range is "*"), "0 12 * * fri%3+2" and "0 12 * * sun%4+1" (1.14
  # matches week % 3 == 2 % 3, 1.5.2 (week + 2) % 3 == 0); schedule_cron_test.rb has 1.14's
  # readings of such cron lines.
  QUIRKS = [
    "every hour on the hour", "every day on the hour",
    "every 3 hours on the hour", "every minute on minute 5", "every hour on the minute",
    "every day at hour 5", "every day at hours 5 and 17", "every 90 seconds",
    "every 61 minutes", "every 25 hours",
    "*/90 * * * *", "0 */30 * * *",
    "0 9 * * 1/2", "0 9 1-L/2 * *", "0 9 * * mon%1",
  ].freeze

  ALL = (CRON + ZONED + NAT).freeze

  # Process zones (ENV["TZ"]) under which the zone-less entries run: each entry runs under
  # one zone with DST and one without, picked by rotation.
  DST_ZONES = %w[
    America/New_York Europe/London Australia/Lord_Howe America/St_Johns Pacific/Chatham
    Europe/Paris America/Los_Angeles America/Santiago Australia/Adelaide Antarctica/Troll
    America/Havana Europe/Dublin America/Sao_Paulo Asia/Tehran
  ].freeze
  STEADY_ZONES = %w[
    UTC Asia/Kolkata Asia/Kathmandu Asia/Tokyo Etc/GMT+5 Asia/Shanghai Pacific/Kiritimati
    America/Phoenix Australia/Eucla Asia/Singapore
  ].freeze
  # Where the entries with a zone suffix run (the suffix must win over it).
  PROCESS_ZONE_FOR_SUFFIXED = "Asia/Tokyo"

  # Reference instants, UTC.
  UTC_INSTANTS = [
    [1999, 1, 1, 0, 0, 0], [1999, 12, 31, 23, 59, 59], [2000, 1, 1, 0, 0, 0],
    [2000, 2, 28, 12, 0, 0], [2000, 2, 29, 0, 0, 0], [2000, 2, 29, 23, 59, 59],
    [2000, 3, 1, 0, 0, 0], [2001, 6, 15, 8, 30, 15], [2003, 11, 30, 23, 0, 0],
    [2004, 2, 29, 12, 0, 0], [2007, 8, 31, 23, 59, 0], [2010, 12, 31, 23, 59, 59],
    [2012, 5, 17, 3, 4, 5], [2015, 7, 4, 16, 20, 0], [2016, 12, 31, 23, 59, 59],
    [2018, 12, 31, 12, 0, 0], [2019, 1, 1, 0, 0, 0], [2020, 2, 29, 12, 34, 56],
    [2021, 1, 31, 22, 0, 0], [2022, 9, 30, 23, 30, 0], [2023, 1, 31, 23, 59, 59],
    [2023, 4, 30, 23, 59, 59], [2023, 6, 21, 6, 0, 0], [2024, 1, 1, 0, 0, 0],
    [2024, 1, 31, 12, 0, 0], [2024, 2, 28, 23, 59, 59], [2024, 2, 29, 0, 0, 0],
    [2024, 2, 29, 12, 0, 0], [2024, 3, 1, 0, 0, 0], [2024, 5, 5, 12, 0, 0],
    [2024, 6, 30, 23, 59, 59], [2024, 8, 15, 9, 0, 0], [2024, 12, 31, 23, 59, 59],
    [2025, 1, 1, 0, 0, 1], [2025, 7, 14, 14, 14, 14], [2026, 12, 31, 0, 0, 0],
    [2028, 2, 29, 6, 0, 0], [2030, 1, 15, 12, 0, 0], [2033, 5, 18, 3, 33, 20],
    [2037, 12, 31, 23, 59, 59], [2038, 1, 19, 3, 14, 7], [2040, 2, 29, 18, 0, 0],
    [2044, 12, 31, 12, 0, 0], [2045, 6, 15, 0, 0, 0], [2099, 12, 31, 23, 0, 0],
    [2100, 2, 28, 12, 0, 0], [2100, 3, 1, 0, 0, 0],
  ].freeze

  # Reference wall-clock times, read in the evaluation zone (month ends, leap days, year
  # ends as the zone sees them). Values are [y, m, d, H, M, S, fraction].
  LOCAL_INSTANTS = [
    [1999, 12, 31, 23, 59, 59, 0], [2000, 1, 1, 0, 0, 0, 0], [2000, 2, 29, 0, 0, 0, 0],
    [2000, 2, 29, 23, 59, 59, 0], [2001, 2, 28, 23, 59, 59, 0], [2004, 2, 29, 12, 0, 0, 0],
    [2012, 12, 31, 23, 59, 59, 0], [2019, 1, 1, 0, 0, 0, 0], [2020, 2, 29, 8, 59, 59, 0.5],
    [2023, 12, 31, 12, 0, 0, 0], [2024, 1, 31, 23, 59, 59, 0], [2024, 2, 28, 0, 0, 0, 0],
    [2024, 2, 28, 23, 59, 59, 0.999], [2024, 2, 29, 9, 0, 0, 0], [2024, 2, 29, 23, 59, 59, 0],
    [2024, 4, 30, 23, 59, 0, 0], [2024, 7, 1, 0, 0, 0, 0], [2024, 9, 30, 12, 0, 0, 0.25],
    [2024, 12, 31, 23, 59, 59, 0], [2025, 2, 28, 23, 59, 59, 0], [2030, 6, 30, 23, 0, 0, 0],
    [2036, 2, 29, 12, 0, 0, 0], [2045, 12, 31, 23, 59, 59, 0], [2100, 2, 28, 23, 59, 59, 0],
  ].freeze
end
