/**
 * The gRPC face of the engine: the ResourceMonitor and Engine services the program runtime (and the provider host's
 * logging) connect to, answered by the program runner. The methods left out (Invoke, Call, transforms, hooks,
 * packages, debugging) are answered UNIMPLEMENTED by grpc-js itself.
 */
import * as grpc from "@grpc/grpc-js";
import * as emptyproto from "google-protobuf/google/protobuf/empty_pb";
import * as enginegrpc from "@pulumi/pulumi/proto/engine_grpc_pb";
import * as engineproto from "@pulumi/pulumi/proto/engine_pb";
import * as resgrpc from "@pulumi/pulumi/proto/resource_grpc_pb";
import * as resproto from "@pulumi/pulumi/proto/resource_pb";
import type { ProgramRunner } from "./program";
import { CHANNEL_OPTIONS, fromStruct } from "./provider";

/** An error to answer the program with. */
export class RpcError extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
  }
}

/** A unary method: what `fn` returns, or its error as the caller's gRPC error. */
function unary<Req>(fn: (req: Req) => unknown): grpc.handleUnaryCall<Req, unknown> {
  return (call, callback) =>
    void Promise.resolve()
      .then(() => fn(call.request))
      .then(
        (res) => callback(null, res),
        (err: unknown) => {
          const code = err instanceof RpcError ? err.code : grpc.status.UNKNOWN;
          callback({ code, details: err instanceof Error ? err.message : String(err) }, null);
        },
      );
}

export async function startMonitor(program: ProgramRunner): Promise<{ address: string; stop: () => void }> {
  const server = new grpc.Server(CHANNEL_OPTIONS);
  const service = (definition: unknown) => definition as grpc.ServiceDefinition;
  server.addService(service(resgrpc.ResourceMonitorService), {
    // Only secrets: the SDK then sends resources as URN/ID, output values as plain values and aliases as URNs.
    supportsFeature: unary((req: resproto.SupportsFeatureRequest) =>
      new resproto.SupportsFeatureResponse().setHassupport(req.getId() === "secrets"),
    ),
    registerResource: unary((req: resproto.RegisterResourceRequest) => program.registerResource(req)),
    readResource: unary((req: resproto.ReadResourceRequest) => program.readResource(req)),
    registerResourceOutputs: unary((req: resproto.RegisterResourceOutputsRequest) => {
      program.registerResourceOutputs(req.getUrn(), fromStruct(req.getOutputs()));
      return new emptyproto.Empty();
    }),
    signalAndWaitForShutdown: unary(() => new emptyproto.Empty()),
  });
  server.addService(service(enginegrpc.EngineService), {
    log: unary((req: engineproto.LogRequest) => {
      program.log(req.getSeverity(), req.getMessage(), req.getUrn(), req.getEphemeral());
      return new emptyproto.Empty();
    }),
    getRootResource: unary(() => new engineproto.GetRootResourceResponse().setUrn(program.rootUrn)),
    setRootResource: unary((req: engineproto.SetRootResourceRequest) => {
      program.rootUrn = req.getUrn();
      return new engineproto.SetRootResourceResponse();
    }),
    // The harness stands for a current CLI: every version requirement is met.
    requirePulumiVersion: unary(() => new engineproto.RequirePulumiVersionResponse()),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  // Stopped once the program has exited and the provider host has stopped: nothing is left to wait for.
  return { address: `127.0.0.1:${port}`, stop: () => server.forceShutdown() };
}
