import Foundation
import PackagePlugin

/// Puts `docs/openapi.yaml` into the front end as a Swift string at build time, so that
/// `GET /openapi.yaml` serves that file's exact bytes and the document has one source. (A SwiftPM
/// resource would need `Bundle`, and with it all of Foundation, in a binary that avoids it.)
@main
struct EmbedOpenAPI: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let document = context.package.directoryURL.appending(path: "docs/openapi.yaml")
        let source = context.pluginWorkDirectoryURL.appending(path: "OpenAPIDocument.swift")
        return [.buildCommand(
            displayName: "Embedding docs/openapi.yaml",
            executable: try context.tool(named: "embed-text").url,
            arguments: [document.path, source.path, "OpenAPIDocument"],
            inputFiles: [document], outputFiles: [source])]
    }
}
