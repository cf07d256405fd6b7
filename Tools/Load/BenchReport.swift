import Foundation

/// A figure of Bazar's beside its ceiling, measured in the same run.
public struct CeilingComparison: Codable, Sendable {
    public var name: String
    /// What Bazar did, and in which unit ("req/s").
    public var bazar: Double
    public var ceilingName: String
    public var ceiling: Double?
    /// The ratio the performance issue aims at, as a fraction (0.9 for 90 %).
    public var goal: Double?
    public var note: String = ""

    public init(name: String, bazar: Double, ceilingName: String, ceiling: Double?, goal: Double?, note: String = "") {
        self.name = name
        self.bazar = bazar
        self.ceilingName = ceilingName
        self.ceiling = ceiling
        self.goal = goal
        self.note = note
    }

    public var ratio: Double? { ceiling.flatMap { $0 > 0 ? bazar / $0 : nil } }
}

/// A member's resident memory, idle and at its peak under load.
public struct MemoryFigure: Codable, Sendable {
    public var member: String
    public var idleMB: Double
    public var peakMB: Double

    public init(member: String, idleMB: Double, peakMB: Double) {
        self.member = member
        self.idleMB = idleMB
        self.peakMB = peakMB
    }
}

/// Everything one `bazar bench` invocation measured, for JSON, Markdown and HTML.
public struct BenchReport: Codable, Sendable {
    public var machine: String
    public var command: String
    public var runs: [LoadResult] = []
    public var ceilings: [CeilingComparison] = []
    public var memory: [MemoryFigure] = []
    /// Whether `runs` is the sweep's grid (their labels say "cache on" or "cache off").
    public var sweep = false

    public init(machine: String, command: String) {
        self.machine = machine
        self.command = command
    }

    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    // MARK: Markdown

    public func markdown() -> String {
        var lines = ["# Bazar benchmark", "", machine, "", "Command: `\(command)`", ""]
        if !ceilings.isEmpty {
            lines += ["## Against the ceilings", "", "| case | Bazar | ceiling in the same run | ceiling | ratio | goal |", "|---|---:|---|---:|---:|---:|"]
            for row in ceilings {
                lines.append("| \(row.name) | \(Self.number(row.bazar)) | \(row.ceilingName) | \(row.ceiling.map(Self.number) ?? "—") | \(row.ratio.map(Self.percent) ?? "—") | \(row.goal.map { "≥ " + Self.percent($0) } ?? "—") |")
            }
            lines.append("")
        }
        if !memory.isEmpty {
            lines += ["## Memory", "", "| member | RSS idle | peak RSS under load |", "|---|---:|---:|"]
            for figure in memory { lines.append("| \(figure.member) | \(String(format: "%.1f", figure.idleMB)) MB | \(String(format: "%.1f", figure.peakMB)) MB |") }
            lines.append("")
        }
        let profiled = runs.filter { !$0.cpuPerRequest.isEmpty }
        if !profiled.isEmpty {
            let members = Set(profiled.flatMap(\.cpuPerRequest.keys)).sorted()
            lines += ["## CPU per request", "", "Milliseconds of CPU (user and system) each process spent per measured request:", "",
                      "| run | " + members.joined(separator: " | ") + " | all |", "|---|" + members.map { _ in "---:|" }.joined() + "---:|"]
            for run in profiled {
                let cells = members.map { run.cpuPerRequest[$0].map { String(format: "%.2f", $0) } ?? "—" }
                lines.append("| \(run.label) | " + cells.joined(separator: " | ") + " | \(String(format: "%.2f", run.cpuPerRequest.values.reduce(0, +))) |")
            }
            lines.append("")
        }
        if !runs.isEmpty {
            lines += ["## Runs", "", Self.runHeader, Self.runRule]
            lines += runs.map(Self.runRow)
            lines.append("")
            lines += ["Latency by kind of request (ms):", "", "| run | kind | req/s | p50 | p90 | p99 | p99.9 | max | errors |", "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
            for run in runs {
                for (kind, summary) in run.kinds.sorted(by: { $0.key < $1.key }) {
                    lines.append("| \(run.label) | \(kind) | \(Int(summary.throughput)) | \(LoadResult.ms(summary.p50)) | \(LoadResult.ms(summary.p90)) | \(LoadResult.ms(summary.p99)) | \(LoadResult.ms(summary.p999)) | \(LoadResult.ms(summary.max)) | \(summary.errors) |")
                }
            }
            lines.append("")
        }
        return lines.joined(separator: "\n")
    }

    public static let runHeader = "| run | pacing | req/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | errors | hit ratio | sold | out of stock | served by | G1 |"
    public static let runRule = "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"

    public static func runRow(_ run: LoadResult) -> String {
        let served = run.servedBy.sorted { $0.key < $1.key }.map { "\($0.key) \(percent(run.share(of: $0.key)))" }.joined(separator: ", ")
        let o = run.overall
        return "| \(run.label) | \(run.pacing) | \(Int(o.throughput)) | \(LoadResult.ms(o.p50)) | \(LoadResult.ms(o.p90)) | \(LoadResult.ms(o.p99)) | \(LoadResult.ms(o.p999)) | \(LoadResult.ms(o.max)) | \(o.errors) | \(percent(run.hitRatio)) | \(run.purchases) | \(run.outOfStock) | \(served) | \(run.stockCheck ?? "—") |"
    }

    static func number(_ value: Double) -> String {
        value >= 1000 ? String(format: "%.0f", value) : String(format: "%.1f", value)
    }

    static func percent(_ value: Double) -> String { String(format: "%.1f %%", value * 100) }

    // MARK: HTML

    /// The report's plots as SVG documents, each with a file name: the ceilings, the sweep's
    /// throughput and latency against the purchase share, or each run's latency by kind.
    public func plots() -> [(name: String, svg: String)] {
        var plots: [(name: String, svg: String)] = []
        if !ceilings.isEmpty {
            plots.append(("ceilings", SVGPlot.bars(
                title: "Bazar as a share of its ceiling (the dashed line: the goal)",
                bars: ceilings.compactMap { row in row.ratio.map { (row.name, $0 * 100, row.goal.map { $0 * 100 }) } }, unit: "%")))
        }
        if sweep {
            for cache in ["cache on", "cache off"] {
                let series = sweepSeries(cache: cache)
                guard !series.isEmpty else { continue }
                let slug = cache.replacingOccurrences(of: " ", with: "-")
                plots.append(("sweep-throughput-\(slug)", SVGPlot.lines(
                    title: "Throughput against purchase share, \(cache)", xLabel: "purchase share (%)", yLabel: "req/s",
                    series: series.map { ($0.name, $0.points.map { ($0.share, $0.run.throughput) }) })))
                plots.append(("sweep-p50-\(slug)", SVGPlot.lines(
                    title: "p50 latency against purchase share, \(cache)", xLabel: "purchase share (%)", yLabel: "ms",
                    series: series.map { ($0.name, $0.points.map { ($0.share, $0.run.overall.p50) }) })))
                plots.append(("sweep-p99-\(slug)", SVGPlot.lines(
                    title: "p99 latency against purchase share, \(cache)", xLabel: "purchase share (%)", yLabel: "ms",
                    series: series.map { ($0.name, $0.points.map { ($0.share, $0.run.overall.p99) }) })))
            }
        } else {
            for (index, run) in runs.enumerated() {
                plots.append(("run-\(index + 1)", SVGPlot.groupedBars(
                    title: "\(run.label.isEmpty ? "run" : run.label): latency percentiles (ms)",
                    groups: run.kinds.sorted { $0.key < $1.key }.map {
                        ($0.key, [("p50", $0.value.p50), ("p90", $0.value.p90), ("p99", $0.value.p99), ("p99.9", $0.value.p999)])
                    })))
            }
        }
        return plots.filter { !$0.svg.isEmpty }
    }

    /// One page, no assets from elsewhere: the plots and the tables.
    public func html() -> String {
        var body = ["<h1>Bazar benchmark</h1>", "<p>\(Self.escape(machine))</p>", "<p>Command: <code>\(Self.escape(command))</code></p>"]
        body += plots().map(\.svg)
        body.append(Self.htmlTable(markdown()))
        return """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>Bazar benchmark</title>
        <style>body{font-family:system-ui,sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse;margin:1em 0}
        td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px}td{text-align:right}td:first-child{text-align:left}
        svg{display:block;margin:1em 0}code{background:#f3f3f3}</style></head>
        <body>
        \(body.joined(separator: "\n"))
        </body></html>
        """
    }

    /// The sweep's runs for one cache setting, one series per client count, by purchase share.
    func sweepSeries(cache: String) -> [(name: String, points: [(share: Double, run: LoadResult)])] {
        let selected = runs.filter { $0.label.contains(cache) }
        let clients = Set(selected.compactMap(\.clients)).sorted()
        return clients.map { count in
            let points = selected.filter { $0.clients == count }.map { run in
                (share: Double(run.mix["purchase", default: 0]) / 100, run: run)
            }.sorted { $0.share < $1.share }
            return ("\(count) clients", points)
        }
    }

    /// The Markdown's tables as HTML tables, its headings as headings, the rest as paragraphs.
    static func htmlTable(_ markdown: String) -> String {
        var html: [String] = []
        var table: [[String]] = []
        func flush() {
            guard !table.isEmpty else { return }
            let header = table[0], rows = table.dropFirst(2)
            html.append("<table><tr>" + header.map { "<th>\(escape($0))</th>" }.joined() + "</tr>"
                + rows.map { "<tr>" + $0.map { "<td>\(escape($0))</td>" }.joined() + "</tr>" }.joined() + "</table>")
            table = []
        }
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("|") {
                table.append(line.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast().map { $0.trimmingCharacters(in: .whitespaces) })
                continue
            }
            flush()
            if line.hasPrefix("## ") { html.append("<h2>\(escape(String(line.dropFirst(3))))</h2>") }
            else if line.hasPrefix("# ") || line.isEmpty { continue }
            else { html.append("<p>\(escape(String(line)))</p>") }
        }
        flush()
        return html.joined(separator: "\n")
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}

/// Plots drawn as inline SVG, so that a report is one file that opens anywhere.
enum SVGPlot {
    static let colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
    static let width = 640.0, height = 320.0, left = 60.0, right = 150.0, top = 30.0, bottom = 40.0

    static func lines(title: String, xLabel: String, yLabel: String, series: [(name: String, points: [(Double, Double)])]) -> String {
        let xs = series.flatMap { $0.points.map(\.0) }, ys = series.flatMap { $0.points.map(\.1) }
        guard let xMin = xs.min(), let xMax = xs.max(), let yTop = ys.max() else { return "" }
        let yMax = niceCeiling(yTop)
        func px(_ x: Double) -> Double { left + (xMax == xMin ? 0 : (x - xMin) / (xMax - xMin)) * (width - left - right) }
        func py(_ y: Double) -> Double { height - bottom - (yMax == 0 ? 0 : y / yMax) * (height - top - bottom) }
        var parts = frame(title: title, xLabel: xLabel, yLabel: yLabel, yMax: yMax)
        for x in Set(xs).sorted() {
            parts.append(#"<text x="\#(px(x))" y="\#(height - bottom + 14)" font-size="11" text-anchor="middle">\#(format(x))</text>"#)
        }
        for (index, line) in series.enumerated() {
            let color = colors[index % colors.count]
            let path = line.points.map { "\(px($0.0)),\(py($0.1))" }.joined(separator: " ")
            parts.append(#"<polyline fill="none" stroke="\#(color)" stroke-width="2" points="\#(path)"/>"#)
            for point in line.points { parts.append(#"<circle cx="\#(px(point.0))" cy="\#(py(point.1))" r="3" fill="\#(color)"/>"#) }
            parts.append(legend(index: index, name: line.name, color: color))
        }
        return svg(parts)
    }

    /// One bar per item, with an optional mark (a goal) on each.
    static func bars(title: String, bars: [(name: String, value: Double, mark: Double?)], unit: String) -> String {
        guard !bars.isEmpty else { return "" }
        let yMax = niceCeiling(max(bars.map(\.value).max() ?? 0, bars.compactMap(\.mark).max() ?? 0))
        var parts = frame(title: title, xLabel: "", yLabel: unit, yMax: yMax)
        let slot = (width - left - right) / Double(bars.count)
        for (index, bar) in bars.enumerated() {
            let x = left + Double(index) * slot + slot * 0.15
            let barHeight = bar.value / yMax * (height - top - bottom)
            parts.append(#"<rect x="\#(x)" y="\#(height - bottom - barHeight)" width="\#(slot * 0.7)" height="\#(barHeight)" fill="\#(colors[index % colors.count])"/>"#)
            parts.append(#"<text x="\#(x + slot * 0.35)" y="\#(height - bottom - barHeight - 4)" font-size="11" text-anchor="middle">\#(format(bar.value))</text>"#)
            if let mark = bar.mark {
                let y = height - bottom - mark / yMax * (height - top - bottom)
                parts.append(#"<line x1="\#(x - 4)" x2="\#(x + slot * 0.7 + 4)" y1="\#(y)" y2="\#(y)" stroke="black" stroke-dasharray="4 2"/>"#)
            }
            parts.append(legend(index: index, name: bar.name, color: colors[index % colors.count]))
        }
        return svg(parts)
    }

    /// Groups of bars (a request kind's percentiles), one color per bar of a group.
    static func groupedBars(title: String, groups: [(name: String, values: [(String, Double)])]) -> String {
        guard let first = groups.first else { return "" }
        let yMax = niceCeiling(groups.flatMap { $0.values.map(\.1) }.max() ?? 0)
        var parts = frame(title: title, xLabel: "", yLabel: "ms", yMax: yMax)
        let slot = (width - left - right) / Double(groups.count), barWidth = slot * 0.8 / Double(first.values.count)
        for (g, group) in groups.enumerated() {
            for (b, value) in group.values.enumerated() {
                let x = left + Double(g) * slot + slot * 0.1 + Double(b) * barWidth
                let barHeight = yMax == 0 ? 0 : value.1 / yMax * (height - top - bottom)
                parts.append(#"<rect x="\#(x)" y="\#(height - bottom - barHeight)" width="\#(barWidth * 0.9)" height="\#(barHeight)" fill="\#(colors[b % colors.count])"><title>\#(group.name) \#(value.0): \#(format(value.1)) ms</title></rect>"#)
            }
            parts.append(#"<text x="\#(left + Double(g) * slot + slot / 2)" y="\#(height - bottom + 14)" font-size="11" text-anchor="middle">\#(group.name)</text>"#)
        }
        for (b, value) in first.values.enumerated() { parts.append(legend(index: b, name: value.0, color: colors[b % colors.count])) }
        return svg(parts)
    }

    private static func frame(title: String, xLabel: String, yLabel: String, yMax: Double) -> [String] {
        var parts = [
            #"<text x="\#(left)" y="18" font-size="14" font-weight="bold">\#(BenchReport.escape(title))</text>"#,
            #"<line x1="\#(left)" y1="\#(height - bottom)" x2="\#(width - right)" y2="\#(height - bottom)" stroke="black"/>"#,
            #"<line x1="\#(left)" y1="\#(top)" x2="\#(left)" y2="\#(height - bottom)" stroke="black"/>"#,
            #"<text x="\#((left + width - right) / 2)" y="\#(height - 6)" font-size="12" text-anchor="middle">\#(BenchReport.escape(xLabel))</text>"#,
            #"<text x="14" y="\#((top + height - bottom) / 2)" font-size="12" text-anchor="middle" transform="rotate(-90 14 \#((top + height - bottom) / 2))">\#(BenchReport.escape(yLabel))</text>"#,
        ]
        for step in 0...4 {
            let value = yMax * Double(step) / 4
            let y = height - bottom - Double(step) / 4 * (height - top - bottom)
            parts.append(#"<line x1="\#(left - 4)" x2="\#(width - right)" y1="\#(y)" y2="\#(y)" stroke="gainsboro"/>"#)
            parts.append(#"<text x="\#(left - 6)" y="\#(y + 4)" font-size="11" text-anchor="end">\#(format(value))</text>"#)
        }
        return parts
    }

    private static func legend(index: Int, name: String, color: String) -> String {
        let y = top + Double(index) * 16
        return #"<rect x="\#(width - right + 10)" y="\#(y)" width="10" height="10" fill="\#(color)"/><text x="\#(width - right + 24)" y="\#(y + 9)" font-size="11">\#(BenchReport.escape(name))</text>"#
    }

    private static func svg(_ parts: [String]) -> String {
        #"<svg xmlns="http://www.w3.org/2000/svg" width="\#(Int(width))" height="\#(Int(height))" viewBox="0 0 \#(Int(width)) \#(Int(height))">"#
            + parts.joined() + "</svg>"
    }

    /// 1, 2 or 5 times a power of ten, at or above `value`.
    static func niceCeiling(_ value: Double) -> Double {
        guard value > 0 else { return 1 }
        let power = pow(10, floor(log10(value)))
        for factor in [1.0, 2, 5, 10] where factor * power >= value { return factor * power }
        return 10 * power
    }

    static func format(_ value: Double) -> String {
        value >= 100 || value == value.rounded() ? String(format: "%.0f", value) : String(format: "%.1f", value)
    }
}
