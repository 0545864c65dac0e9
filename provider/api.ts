/**
 * The WeChat endpoints the provider calls, each one typed constant: its name as WeChat documents it, its path, the
 * token it takes, the body it is sent and the answer it must give. An answer is data only once its schema accepted
 * it (see client.ts): a success that does not fit is an error naming the API, never a value in state.
 *
 * Shapes as WeChat documents them (the Open Platform page of each endpoint); extra fields WeChat may add are allowed
 * and ignored.
 */
import { z } from "zod";

export interface Endpoint<Body, Answer> {
  /** The API's name as WeChat documents it, used in every message. */
  readonly name: string;
  readonly path: string;
  /** Which token goes in the query: an authorizer's `access_token`, the platform's `component_access_token`, or none. */
  readonly token: "authorizer" | "component" | "none";
  readonly body: z.ZodType<Body>;
  /** The answer of a success (errcode 0 or absent), after the envelope was checked. */
  readonly answer: z.ZodType<Answer, unknown>;
}

function endpoint<Body, Answer>(definition: Endpoint<Body, Answer>): Endpoint<Body, Answer> {
  return definition;
}

/** What every answer is: a JSON object whose errcode, when present, is an integer. */
export const Envelope = z.looseObject({ errcode: z.number().int().optional(), errmsg: z.string().optional() });

const appId = z.string().min(1);
const token = z.string().min(1);
const lifetime = z.number().int().positive();

/** get_authorizer_option has been seen answering the value as a string and as a number: both mean the string. */
const optionValue = z.union([z.string(), z.number()]).transform(String);

export const CallbackRule = z.looseObject({
  msgType: z.string(),
  event: z.string().default(""),
  env: z.string(),
  functionName: z.string(),
  enable: z.boolean(),
});
export const FunctionSection = z.looseObject({ enable: z.boolean(), callbacks: z.array(CallbackRule) });
export const ContainerSection = z.looseObject({
  enable: z.boolean(),
  qbase_env: z.string(),
  qbase_container_path: z.string(),
  /** 1 JSON, 2 XML: the only values WeChat documents. */
  text_mode: z.union([z.literal(1), z.literal(2)]),
});

/** The message-push configuration as the API has it (snake_case sections, camelCase callbacks). */
const CallbackConfigBody = z.object({
  function_config: z.object({ enable: z.boolean(), callbacks: z.array(CallbackRule) }).optional(),
  container_config: ContainerSection.optional(),
});

export const API = {
  /** An account's own token; normal mode only (`force_refresh: false`): see credentials.ts. */
  stableToken: endpoint({
    name: "stable_token",
    path: "/cgi-bin/stable_token",
    token: "none",
    body: z.object({ grant_type: z.literal("client_credential"), appid: appId, secret: z.string(), force_refresh: z.literal(false) }),
    answer: z.looseObject({ access_token: token, expires_in: lifetime }),
  }),
  componentToken: endpoint({
    name: "api_component_token",
    path: "/cgi-bin/component/api_component_token",
    token: "none",
    body: z.object({ component_appid: appId, component_appsecret: z.string(), component_verify_ticket: z.string() }),
    answer: z.looseObject({ component_access_token: token, expires_in: lifetime }),
  }),
  authorizerToken: endpoint({
    name: "api_authorizer_token",
    path: "/cgi-bin/component/api_authorizer_token",
    token: "component",
    body: z.object({ component_appid: appId, authorizer_appid: appId, authorizer_refresh_token: z.string() }),
    answer: z.looseObject({ authorizer_access_token: token, expires_in: lifetime }),
  }),
  getAuthorizerOption: endpoint({
    name: "get_authorizer_option",
    path: "/cgi-bin/component/get_authorizer_option",
    token: "authorizer",
    body: z.object({ option_name: z.string() }),
    answer: z.looseObject({ option_value: optionValue }),
  }),
  setAuthorizerOption: endpoint({
    name: "set_authorizer_option",
    path: "/cgi-bin/component/set_authorizer_option",
    token: "authorizer",
    body: z.object({ option_name: z.string(), option_value: z.string() }),
    answer: z.looseObject({}),
  }),
  getCallbackConfig: endpoint({
    name: "getcallbackconfig",
    path: "/tcb/getcallbackconfig",
    token: "authorizer",
    body: z.object({}),
    // Each section is checked where it is used: a resource needs the sections it manages, and only those.
    answer: z.looseObject({ data: z.looseObject({ function_config: z.unknown().optional(), container_config: z.unknown().optional() }) }),
  }),
  setCallbackConfig: endpoint({
    name: "setcallbackconfig",
    path: "/tcb/setcallbackconfig",
    token: "authorizer",
    body: CallbackConfigBody,
    answer: z.looseObject({}),
  }),
} as const;

export type CallbackConfigBody = z.infer<typeof CallbackConfigBody>;

/** The first problem of a failed parse, as `path: message`, naming no value; `at` is where the parsed value sits. */
export function firstProblem(error: z.ZodError, at: readonly string[] = []): string {
  const issue = error.issues[0];
  const path = [...at, ...issue.path.map(String)];
  return `${path.length ? path.join(".") : "the answer"}: ${issue.message}`;
}
