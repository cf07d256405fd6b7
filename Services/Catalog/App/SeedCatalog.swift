import BazarModels

/// The seven books a catalog replica loads into an empty database. Stock and prices live here
/// and nowhere else; every replica seeds the same books at version 1, so replicas start equal.
public enum SeedCatalog {
    public static let books: [Book] = [
        Book(id: 1, title: "How to get a good grade in DOS in 40 minutes a day", topic: "distributed systems",
             quantity: 100, price: Money(cents: 2500), version: 1),
        Book(id: 2, title: "RPCs for Noobs", topic: "distributed systems",
             quantity: 100, price: Money(cents: 1999), version: 1),
        Book(id: 3, title: "Xen and the Art of Surviving Undergraduate School", topic: "undergraduate school",
             quantity: 100, price: Money(cents: 1550), version: 1),
        Book(id: 4, title: "Cooking for the Impatient Undergrad", topic: "undergraduate school",
             quantity: 100, price: Money(cents: 1200), version: 1),
        Book(id: 5, title: "How to finish Project 3 on time", topic: "distributed systems",
             quantity: 100, price: Money(cents: 3000), version: 1),
        Book(id: 6, title: "Why theory classes are so hard.", topic: "undergraduate school",
             quantity: 100, price: Money(cents: 2250), version: 1),
        Book(id: 7, title: "Spring in the Pioneer Valley", topic: "undergraduate school",
             quantity: 100, price: Money(cents: 1800), version: 1),
    ]
}
