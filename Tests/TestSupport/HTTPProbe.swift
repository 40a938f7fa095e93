import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A minimal HTTP client for tests.
public enum HTTPProbe {
    public static func get(_ address: String, bearer: String? = nil) async throws -> (Int, String) {
        try await send("GET", address, body: nil, bearer: bearer)
    }

    public static func post(_ address: String, json: String, bearer: String?) async throws -> (Int, String) {
        try await send("POST", address, body: Data(json.utf8), bearer: bearer)
    }

    public static func post(_ address: String, body: Data, bearer: String?) async throws -> (Int, String) {
        try await send("POST", address, body: body, bearer: bearer)
    }

    static func send(_ method: String, _ address: String, body: Data?, bearer: String?) async throws -> (Int, String) {
        let (status, body, _) = try await exchange(method, address, body: body, bearer: bearer)
        return (status, body)
    }

    /// Any request; also returns the response headers (names lower-cased).
    public static func exchange(
        _ method: String, _ address: String, body: Data? = nil, contentType: String = "application/json", bearer: String? = nil
    ) async throws -> (status: Int, body: String, headers: [String: String]) {
        var request = URLRequest(url: URL(string: address)!)
        request.httpMethod = method
        request.timeoutInterval = 30
        if let bearer { request.setValue("Bearer \(bearer)", forHTTPHeaderField: "Authorization") }
        if let body {
            request.httpBody = body
            request.setValue(contentType, forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as? HTTPURLResponse
        var headers: [String: String] = [:]
        for (name, value) in http?.allHeaderFields ?? [:] {
            if let name = name as? String, let value = value as? String { headers[name.lowercased()] = value }
        }
        return (http?.statusCode ?? 0, String(decoding: data, as: UTF8.self), headers)
    }
}
