// swift-tools-version:6.0
// zkswiftd: a ZooKeeper 3.8 compatible server. Module layout and dependency
// direction follow the architecture doc: lower targets never import higher ones.
import PackageDescription

let package = Package(
    name: "zkswiftd",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "zkswiftd", targets: ["zkswiftd"]),
        .executable(name: "zkswift", targets: ["zkswift"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.0"),
    ],
    targets: [
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CSnappy", path: "Sources/CSnappy", providers: [.apt(["libsnappy-dev"])]),
        .systemLibrary(name: "CSystemd", path: "Sources/CSystemd", providers: [.apt(["libsystemd-dev"])]),
        .target(name: "ZKJute", dependencies: [
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        .target(name: "ZKData", dependencies: ["ZKJute", "CZlib"]),
        .target(name: "ZKPersistence", dependencies: [
            "ZKJute", "ZKData", "CZlib", "CSnappy",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "ZKServer", dependencies: [
            "ZKJute", "ZKData", "ZKPersistence",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "ZKQuorum", dependencies: [
            "ZKJute", "ZKData", "ZKPersistence", "ZKServer",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "ZKClient", dependencies: [
            "ZKJute",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        ]),
        .executableTarget(name: "zkswiftd", dependencies: [
            "ZKServer", "ZKQuorum", "ZKPersistence", "CSystemd",
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "zkswift", dependencies: [
            "ZKPersistence", "ZKJute", "ZKData",
            .product(name: "NIOCore", package: "swift-nio"),   // ZKPersistence's API takes ByteBuffer
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "ZKJuteTests", dependencies: ["ZKJute"]),
        .testTarget(name: "ZKDataTests", dependencies: ["ZKData"]),
        .testTarget(name: "ZKQuorumTests", dependencies: ["ZKQuorum", "ZKJute", "ZKServer", "ZKData", "ZKPersistence", "ZKClient"]),
        .testTarget(name: "ZKServerTests", dependencies: [
            "ZKServer",
            .product(name: "NIOEmbedded", package: "swift-nio"),
        ]),
        .testTarget(name: "ZKPersistenceTests", dependencies: [
            "ZKPersistence", "ZKJute", "ZKData", "zkswift",
            .product(name: "NIOCore", package: "swift-nio"),
        ], resources: [.copy("Fixtures")]),
        .testTarget(name: "IntegrationTests", dependencies: ["ZKClient", "ZKJute"], path: "Tests/Integration"),
    ],
    swiftLanguageModes: [.v6]
)
