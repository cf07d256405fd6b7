import BazarService
import Testing

@Suite("Development defaults")
struct DevelopmentDefaultsTests {
    let devTokens = AccessTokens(admin: DevelopmentDefaults.adminToken, internal: DevelopmentDefaults.internalToken)
    let devDatabase = "postgres://bazar:\(DevelopmentDefaults.databasePassword)@postgres:5432/bazar_catalog_1"

    @Test("every setting still on a development default is named, in a fixed order")
    func allOnDefaults() {
        #expect(DevelopmentDefaults.settingsOnDefaults(tokens: devTokens, databaseURL: devDatabase) == [
            "BAZAR_ADMIN_TOKEN (--admin-token)",
            "BAZAR_INTERNAL_TOKEN (--internal-token)",
            "BAZAR_DATABASE_URL (--database): its password",
        ])
        // The front end has no database.
        #expect(DevelopmentDefaults.settingsOnDefaults(tokens: devTokens, databaseURL: nil).count == 2)
    }

    @Test("own secrets, no tokens, and SQLite files are not development defaults")
    func ownSecrets() {
        let own = AccessTokens(admin: "s3cret-admin", internal: "s3cret-internal")
        #expect(DevelopmentDefaults.settingsOnDefaults(
            tokens: own, databaseURL: "postgres://bazar:another-password@postgres:5432/bazar_order_2").isEmpty)
        #expect(DevelopmentDefaults.settingsOnDefaults(tokens: own, databaseURL: ".bazar/catalog-1.sqlite").isEmpty)
        #expect(DevelopmentDefaults.settingsOnDefaults(tokens: own, databaseURL: "postgres://bazar@postgres/bazar_catalog_1").isEmpty)
        // Only the password counts: a user or database named like it is no secret.
        #expect(DevelopmentDefaults.settingsOnDefaults(
            tokens: own, databaseURL: "postgres://\(DevelopmentDefaults.databasePassword):x@postgres/db").isEmpty)
        // One token of two on its default.
        #expect(DevelopmentDefaults.settingsOnDefaults(
            tokens: AccessTokens(admin: "s3cret-admin", internal: DevelopmentDefaults.internalToken), databaseURL: nil)
            == ["BAZAR_INTERNAL_TOKEN (--internal-token)"])
    }
}
