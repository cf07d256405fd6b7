// Trims ICU's data in the build stage's toolchain, for the replicas' images: `swift trim-icu-data.swift
// [lib_FoundationICU.a]` (default: the toolchain's) rewrites the archive member that defines
// `icudt<N>_dat` with only what a Bazar replica can use.
//
// Why: PostgresNIO, NIOFoundationCompat and postgres-kit refer to full Foundation, which links ICU and
// its 34 MB of data into catalog and order (docs/containers.md). ICU's data is a package of items by
// locale and feature, and ICU supports shipping fewer (its data build tool's locale and feature
// filters). This keeps the root and English locales, time zones, calendars, the root collation,
// normalization and character properties; it leaves out the conversion tables of legacy charsets,
// the word-break dictionaries (Chinese, Japanese, Thai, Khmer, Lao, Burmese), transliterators and
// every other locale's strings, for which ICU falls back to root. Debian's icupkg (ICU 72) cannot
// read the toolchain's package (more item names than its fixed string store), so the package is
// read and written here. Its format is ICU's common data ("CmnD"): a data header, a table of
// contents of (name offset, data offset) pairs sorted by name, the names, then the items, each at a
// multiple of 16 bytes.
import Foundation

let keptLocales: Set<Substring> = ["root", "en", "en_001", "en_US", "en_US_POSIX"]

/// Whether a package item (`coll/de.res`, `zoneinfo64.res`) stays.
func keeps(_ item: Substring) -> Bool {
    let base = item.split(separator: "/").last ?? item
    let stem = base.split(separator: ".").first ?? base
    let ext = base.split(separator: ".").last ?? ""
    if ext == "cnv" || ext == "dict" || item.hasPrefix("translit/") { return false }
    return !(ext == "res" && isLocaleID(stem) && !keptLocales.contains(stem))
}

/// de, zh_Hant_TW, de_ (de__PHONEBOOK); not pool, supplementalData.
func isLocaleID(_ stem: Substring) -> Bool {
    let language = stem.prefix { $0 != "_" }
    return (2...3).contains(language.count) && language.allSatisfy { $0.isASCII && $0.isLowercase }
        && stem.dropFirst(language.count).allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("trim-icu-data: \(message)\n".utf8))
    exit(1)
}

@discardableResult
func run(_ arguments: [String], in directory: URL) -> String {
    let process = Process()
    let output = Pipe()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    process.currentDirectoryURL = directory
    process.standardOutput = output
    do { try process.run() } catch { fail("\(arguments[0]): \(error)") }
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    if process.terminationStatus != 0 { fail("\(arguments.joined(separator: " ")) exited with \(process.terminationStatus)") }
    return text
}

extension Data {
    func uint16(at offset: Int) -> Int { Int(self[offset]) | Int(self[offset + 1]) << 8 }
    func uint32(at offset: Int) -> Int { (0..<4).reduce(0) { $0 | Int(self[offset + $1]) << (8 * $1) } }
    mutating func append(uint32 value: Int) { append(contentsOf: (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }) }
    mutating func pad(to alignment: Int) { append(contentsOf: [UInt8](repeating: 0, count: (alignment - count % alignment) % alignment)) }
}

/// The header and the items (name, bytes) of an ICU common data package.
func readPackage(_ data: Data) -> (header: Data, items: [(name: String, bytes: Data)]) {
    let headerSize = data.uint16(at: 0)
    guard data.count > 16, data[2] == 0xDA, data[3] == 0x27, data[12..<16] == Data("CmnD".utf8) else { fail("not ICU common data (CmnD)") }
    let count = data.uint32(at: headerSize)
    let toc = (0..<count).map { (name: data.uint32(at: headerSize + 4 + 8 * $0), data: data.uint32(at: headerSize + 8 + 8 * $0)) }
    let items = toc.indices.map { i in
        let nameStart = headerSize + toc[i].name
        let nameEnd = data[nameStart...].firstIndex(of: 0)!
        let end = i + 1 < count ? headerSize + toc[i + 1].data : data.count
        return (name: String(decoding: data[nameStart..<nameEnd], as: UTF8.self), bytes: Data(data[(headerSize + toc[i].data)..<end]))
    }
    return (Data(data.prefix(headerSize)), items)
}

func writePackage(header: Data, items: [(name: String, bytes: Data)]) -> Data {
    let names = items.map { Data($0.name.utf8) + [0] }
    let tocSize = 4 + 8 * items.count
    var namesEnd = header.count + tocSize + names.reduce(0) { $0 + $1.count }
    namesEnd += (16 - namesEnd % 16) % 16
    var package = header
    package.append(uint32: items.count)
    var nameOffset = tocSize, dataOffset = namesEnd - header.count
    for (item, name) in zip(items, names) {
        package.append(uint32: nameOffset)
        package.append(uint32: dataOffset)
        nameOffset += name.count
        dataOffset += item.bytes.count + (16 - item.bytes.count % 16) % 16
    }
    names.forEach { package.append($0) }
    package.pad(to: 16)
    for item in items {
        package.append(item.bytes)
        package.pad(to: 16)
    }
    return package
}

let library = CommandLine.arguments.count > 1 ? URL(fileURLWithPath: CommandLine.arguments[1]) : {
    let swift = URL(fileURLWithPath: run(["which", "swift"], in: URL(fileURLWithPath: "/")).trimmingCharacters(in: .whitespacesAndNewlines))
    return swift.resolvingSymlinksInPath().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("lib/swift_static/linux/lib_FoundationICU.a")
}()
let work = FileManager.default.temporaryDirectory.appendingPathComponent("trim-icu-data-\(getpid())")
try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: work) }

let definitions = run(["nm", "-A", "--defined-only", library.path], in: work).split(separator: "\n")
    .filter { $0.hasSuffix("_dat") && $0.contains(" R icudt") }
guard definitions.count == 1, let line = definitions.first else { fail("expected one icudt<N>_dat in \(library.path), found \(definitions.count)") }
let member = String(line.split(separator: ":")[1]), symbol = String(line.split(separator: " ").last!)
run(["ar", "x", library.path, member], in: work)
run(["objcopy", "-O", "binary", "--only-section=.rodata", member, "full.dat"], in: work)
let (header, items) = readPackage(try Data(contentsOf: work.appendingPathComponent("full.dat")))
let prefix = items[0].name.prefix { $0 != "/" }.count + 1  // icudt76l/
let kept = items.filter { keeps($0.name.dropFirst(prefix)) }
let trimmed = writePackage(header: header, items: kept)
try trimmed.write(to: work.appendingPathComponent("trimmed.dat"))
try """
    .section .rodata
    .balign 16
    .globl \(symbol)
    .type \(symbol),@object
    \(symbol):
    .incbin "trimmed.dat"
    .size \(symbol), .-\(symbol)
    .section .note.GNU-stack,"",@progbits

    """.write(to: work.appendingPathComponent("data.S"), atomically: true, encoding: .utf8)
try FileManager.default.removeItem(at: work.appendingPathComponent(member))
run(["clang", "-c", "data.S", "-o", member], in: work)
run(["ar", "r", library.path, member], in: work)
if let copy = ProcessInfo.processInfo.environment["ICU_DATA_COPY"] {  // to read it with icupkg -l
    try trimmed.write(to: URL(fileURLWithPath: copy))
}
let full = items.reduce(0) { $0 + $1.bytes.count }
print("trim-icu-data: \(symbol) in \(library.lastPathComponent): \(kept.count) of \(items.count) items, "
      + "\(trimmed.count / 1000) of \(full / 1000) kB")
