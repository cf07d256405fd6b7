// Run in the build stage after trim-icu-data.swift, linked the way the replicas are
// (`-static-stdlib`): Foundation's ICU-backed parts still answer with the trimmed data (the English
// and root locales, time zones, calendars, collation, case mapping), and another locale falls back
// to English instead of failing. The image build stops here if they do not.
import Foundation

var failures = 0
func expect(_ actual: String?, _ expected: String, _ what: String) {
    if actual != expected {
        failures += 1
        print("icu-check: \(what): expected \(expected), got \(actual ?? "nil")")
    }
}

let epoch = Date(timeIntervalSince1970: 0)
let formatter = DateFormatter()
formatter.locale = Locale(identifier: "en_US_POSIX")
formatter.timeZone = TimeZone(identifier: "America/New_York")
formatter.dateFormat = "yyyy-MM-dd HH:mm zzz"
expect(formatter.string(from: epoch), "1969-12-31 19:00 EST", "a date in a time zone")
expect(formatter.date(from: "2026-07-01 12:00 EDT").map { "\($0.timeIntervalSince1970)" }, "1782921600.0", "a date parsed")
expect(String(format: "%05.1f|%d|%@", 3.14159, 42, "x"), "003.1|42|x", "String(format:)")
let numbers = NumberFormatter()
numbers.numberStyle = .decimal
numbers.locale = Locale(identifier: "en_US")
expect(numbers.string(from: 1234567.5), "1,234,567.5", "a decimal number in en_US")
expect(epoch.formatted(.dateTime.year().month(.wide).day().locale(Locale(identifier: "en_US"))), "January 1, 1970", "a date in en_US")
expect(epoch.formatted(.dateTime.year().month(.wide).day().locale(Locale(identifier: "de_DE"))), "January 1, 1970", "de_DE, left out: English")
expect("straße".uppercased(), "STRASSE", "case mapping")
expect(["b", "a", "C"].sorted { $0.localizedCompare($1) == .orderedAscending }.joined(), "abC", "collation")
expect(Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "Asia/Tokyo")!, from: epoch).hour.map { "\($0)" }, "9", "a calendar in a time zone")
expect(TimeZone(identifier: "Europe/Berlin").map { "\($0.secondsFromGMT(for: Date(timeIntervalSince1970: 1_750_000_000)))" }, "7200", "summer time")
expect(Locale(identifier: "en_US").localizedString(forLanguageCode: "fr"), "French", "a language's English name")
if failures > 0 { exit(1) }
print("icu-check: Foundation answers with the trimmed ICU data")
