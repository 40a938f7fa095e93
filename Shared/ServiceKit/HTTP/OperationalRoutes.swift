import Foundation
import Hummingbird
import Prometheus

/// `GET /healthz` (the process is alive), `GET /readyz` (its dependencies answer) and
/// `GET /metrics` (Prometheus text exposition), served by every service.
public enum OperationalRoutes {
    public static func add<Context: RequestContext>(
        to router: Router<Context>, readiness: [ReadinessCheck], registry: PrometheusCollectorRegistry
    ) {
        router.get("/healthz") { _, _ in
            jsonResponse(["status": "ok"])
        }
        router.get("/readyz") { _, _ -> Response in
            let results = await ReadinessCheck.run(readiness)
            let ready = results.values.allSatisfy { $0 == "ok" }
            if ready {
                return jsonResponse(["status": "ready", "checks": results])
            }
            let failing = results.filter { $0.value != "ok" }.keys.sorted().joined(separator: ", ")
            throw ProblemDetails(
                status: .serviceUnavailable, title: "Not ready", detail: "Unavailable: \(failing)",
                extensions: ["checks": results])
        }
        router.get("/metrics") { _, _ -> Response in
            var buffer: [UInt8] = []
            buffer.reserveCapacity(16 * 1024)
            registry.emit(into: &buffer)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }
    }

    static func jsonResponse(_ object: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
        let body = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
