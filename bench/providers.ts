/**
 * The two providers the benchmark compares inside the dynamic-provider host, loaded there by absolute path from
 * their `__provider` text (project.ts). The package is required from the host's working directory, the
 * installed project, so the provider measured is the packed one users get.
 *
 * - `noop`: check passes the inputs through, create answers at once: the host and gRPC cost of any dynamic provider.
 * - `inMemory`: the real AuthorizerOption provider built by `providersWith({ transport })` with a transport that
 *   answers from memory: zod check, token cache, concurrency limit, answer handling, everything but the exchange.
 */
import { createRequire } from "node:module";
import * as path from "node:path";
import type * as Provider from "../provider";

const installed = createRequire(path.join(process.cwd(), "package.json"))("pulumi-wechat/provider") as typeof Provider;

const ANSWERS: Record<string, string> = {
  "/cgi-bin/component/api_component_token": '{"component_access_token":"bench-component-token","expires_in":7200}',
  "/cgi-bin/component/api_authorizer_token": '{"authorizer_access_token":"bench-authorizer-token","expires_in":7200}',
  "/cgi-bin/component/get_authorizer_option": '{"errcode":0,"errmsg":"ok","option_value":"0"}',
  "/cgi-bin/component/set_authorizer_option": '{"errcode":0,"errmsg":"ok"}',
};

export const inMemory = installed.providersWith({
  transport: async ({ url }) => ({ statusCode: 200, body: ANSWERS[new URL(url).pathname] ?? '{"errcode":-1}' }),
}).authorizerOption;

export const noop = {
  check: async (_olds: unknown, news: Record<string, unknown>) => ({ inputs: news }),
  create: async (inputs: Record<string, unknown>) => ({
    id: `${String(inputs.authorizerAppId)}/${String(inputs.optionName)}`,
    outs: inputs,
  }),
};
