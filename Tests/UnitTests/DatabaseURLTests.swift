@testable import BazarReplication
import BazarService
import Testing

@Suite("PostgreSQL URLs")
struct DatabaseURLTests {
    @Test("a URL without sslmode is read with TLS off, so no CA certificates are needed")
    func plainURL() throws {
        let (config, database) = try DatabaseClient.clientConfiguration(url: "postgres://bazar:s3cret@postgres:5432/bazar_catalog_1")
        #expect(config.host == "postgres" && config.port == 5432)
        #expect(config.username == "bazar" && config.password == "s3cret")
        #expect(database == "bazar_catalog_1" && config.database == "bazar_catalog_1")
        let (other, _) = try DatabaseClient.clientConfiguration(url: "postgresql://u:p@db.internal/orders?sslmode=prefer&application_name=x")
        #expect(other.host == "db.internal" && other.port == 5432 && other.database == "orders")
    }

    @Test("a URL that demands TLS is refused, with its password hidden")
    func demandsTLS() {
        for mode in ["require", "verify-full", "verify-ca"] {
            #expect {
                try DatabaseClient.clientConfiguration(url: "postgres://bazar:s3cret@postgres/db?sslmode=\(mode)")
            } throws: { error in
                let text = (error as? ConfigurationError)?.description ?? ""
                return text.contains("TLS") && !text.contains("s3cret")
            }
        }
        #expect(throws: ConfigurationError.self) { try DatabaseClient.clientConfiguration(url: "postgres:///no-host") }
    }
}
