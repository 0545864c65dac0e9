/**
 * CallbackConfig: an account's CloudBase message-push configuration (which cloud function or cloud-hosting
 * container receives WeChat messages), through `tcb/setcallbackconfig` / `tcb/getcallbackconfig`.
 *
 * The API has two sections, `function_config` and `container_config`, and leaves a section it is not sent
 * untouched. So a section the program leaves out is not managed: never sent, never compared, never restored.
 *
 * Reads top to bottom: the input schema, the API calls, then check, diff, create, read, update, delete. This
 * module's exports are the provider object itself (see sdk/).
 */
import { z } from "zod";
import { ConfigSource } from "./config";
import { WeChatApiError } from "./errors";
import {
  CheckResult,
  CreateResult,
  DiffResult,
  PartialFailure,
  ReadResult,
  UpdateResult,
  authorizerAppId,
  checkWith,
  diffProperties,
  sameValue,
} from "./resource";
import { configureSession, session } from "./session";

const MAX_CALLBACKS = 100;

/** A CloudBase environment id, e.g. `test-env-6gni9ity244a6ea3`. */
const envId = (property: string) =>
  z
    .string({ error: `${property} is required: the CloudBase environment id, e.g. prod-6gni9ity244a6ea3` })
    .min(1, `${property} must not be empty: give the CloudBase environment id, e.g. prod-6gni9ity244a6ea3`)
    .max(64, `${property} is longer than 64 characters: CloudBase environment ids are short, e.g. prod-6gni9ity244a6ea3`)
    .regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, `${property} must be a CloudBase environment id: letters, digits, "-" and "_"`);

/** One routing rule: messages of a type (and event) go to a cloud function. */
const Callback = z
  .object({
    /** The message type, as WeChat names it: `text`, `image`, `miniprogrampage`, `event`, ... */
    msgType: z
      .string({ error: "msgType is required: the WeChat message type, e.g. text, image or event" })
      .regex(/^[a-z_]{1,32}$/, "must be a WeChat message type in lowercase, e.g. text, image or event"),
    /** For `msgType: "event"`, the event name (e.g. `user_enter_tempsession`); empty or left out otherwise. */
    event: z
      .string()
      .max(64, "must be at most 64 characters")
      .regex(/^[A-Za-z0-9_.]*$/, "must be a WeChat event name, e.g. user_enter_tempsession")
      .default(""),
    /** The CloudBase environment of the function. */
    env: envId("env"),
    /** The cloud function that receives the messages. */
    functionName: z
      .string({ error: "functionName is required: the cloud function's name" })
      .min(1, "must not be empty: give the cloud function's name")
      .max(60, "must be at most 60 characters (a CloudBase function name)")
      .regex(/^[A-Za-z][A-Za-z0-9_-]*$/, "must be a cloud function name: a letter, then letters, digits, - or _"),
    /** Whether this rule is on. Default true. */
    enable: z.boolean().default(true),
  })
  .strict()
  .superRefine((callback, context) => {
    if (callback.msgType === "event" && !callback.event) {
      context.addIssue({ code: "custom", path: ["event"], message: 'is required when msgType is "event", e.g. user_enter_tempsession' });
    }
    if (callback.msgType !== "event" && callback.event) {
      context.addIssue({
        code: "custom",
        path: ["event"],
        message: `must be empty for msgType "${callback.msgType}": only event messages name an event`,
      });
    }
  });

/** Cloud-function routing: the `function_config` section. */
const FunctionConfig = z
  .object({
    /** Whether push to cloud functions is on. Default true. */
    enable: z.boolean().default(true),
    /** The routing rules; at most one per message type and event. */
    callbacks: z.array(Callback).max(MAX_CALLBACKS, `at most ${MAX_CALLBACKS} callbacks`).default([]),
  })
  .strict()
  .superRefine((section, context) => {
    const seen = new Map<string, number>();
    section.callbacks.forEach((callback, index) => {
      const key = `${callback.msgType}/${callback.event}`;
      const first = seen.get(key);
      if (first === undefined) seen.set(key, index);
      else {
        context.addIssue({
          code: "custom",
          path: ["callbacks", index],
          message: `duplicates callbacks[${first}] (msgType "${callback.msgType}"${callback.event ? `, event "${callback.event}"` : ""}): keep one rule per message type and event`,
        });
      }
    });
  });

/** Cloud-hosting routing: the `container_config` section. */
const ContainerConfig = z
  .object({
    /** Whether push to the container is on. Default true. */
    enable: z.boolean().default(true),
    /** The CloudBase environment of the container service. */
    qbaseEnv: envId("qbaseEnv"),
    /** The path messages are posted to, starting with `/`, e.g. `/container-echo`. */
    qbaseContainerPath: z
      .string({ error: 'qbaseContainerPath is required: the path messages are posted to, e.g. "/container-echo"' })
      .max(256, "must be at most 256 characters")
      .regex(/^\/[^\s]*$/, 'must start with "/" and contain no spaces, e.g. "/container-echo"'),
    /** The push format: 1 JSON, 2 XML. */
    textMode: z.union([z.literal(1), z.literal(2)], { error: "must be 1 (JSON) or 2 (XML)" }),
  })
  .strict();

/** The inputs of a CallbackConfig; `z.input` of it is the SDK's argument type, `z.output` what state holds. */
export const CallbackConfigInputs = z
  .object({
    /** The authorized account (wx followed by 16 lowercase hex characters). Changing it replaces the resource. */
    authorizerAppId,
    /** Routing to cloud functions. Left out: the account's function config is not managed (never sent). */
    functionConfig: FunctionConfig.optional(),
    /** Routing to a cloud-hosting container. Left out: the account's container config is not managed (never sent). */
    containerConfig: ContainerConfig.optional(),
    /**
     * What `pulumi destroy` (or removing the resource) does to the account: `retain` leaves it as it is (default),
     * `disable` sends the managed sections with `enable: false`, `restore` puts back what the account had before.
     */
    deleteBehavior: z.enum(["retain", "disable", "restore"]).default("retain"),
  })
  .strict()
  .superRefine((inputs, context) => {
    if (!inputs.functionConfig && !inputs.containerConfig) {
      context.addIssue({
        code: "custom",
        path: [],
        message: "set functionConfig, containerConfig or both: a CallbackConfig with neither manages nothing",
      });
    }
  });

/** What a program passes. */
export type CallbackConfigInputs = z.input<typeof CallbackConfigInputs>;
/** The inputs as check normalizes them and state stores them. */
export type CallbackConfigState = z.output<typeof CallbackConfigInputs>;
export type FunctionConfig = z.output<typeof FunctionConfig>;
export type ContainerConfig = z.output<typeof ContainerConfig>;
type Sections = Pick<CallbackConfigState, "functionConfig" | "containerConfig">;
/** The two sections, each managed only when the program declares it. */
const SECTIONS = ["functionConfig", "containerConfig"] as const;
/** The resource's outputs: the normalized inputs and what the account held before the resource took over. */
export interface CallbackConfigOutputs extends CallbackConfigState {
  /** The managed sections as they were before this resource first set them; `restore` puts them back. */
  readonly previousConfig: Sections;
}

/** The API's shapes (snake_case sections, camelCase callbacks, as WeChat has it). */
interface ApiCallbackConfig {
  function_config?: { enable: boolean; callbacks: FunctionConfig["callbacks"] };
  container_config?: { enable: boolean; qbase_env: string; qbase_container_path: string; text_mode: 1 | 2 };
}

function toApi(sections: Sections): ApiCallbackConfig {
  const api: ApiCallbackConfig = {};
  if (sections.functionConfig) {
    const { enable, callbacks } = sections.functionConfig;
    api.function_config = {
      enable,
      callbacks: callbacks.map(({ msgType, event, env, functionName, enable }) => ({ msgType, event, env, functionName, enable })),
    };
  }
  if (sections.containerConfig) {
    const { enable, qbaseEnv, qbaseContainerPath, textMode } = sections.containerConfig;
    api.container_config = { enable, qbase_env: qbaseEnv, qbase_container_path: qbaseContainerPath, text_mode: textMode };
  }
  return api;
}

/** The account's sections in this package's shape, limited to the sections in `managed`. */
function fromApi(api: ApiCallbackConfig, managed: Sections): Sections {
  const sections: Sections = {};
  if (managed.functionConfig) {
    const section = api.function_config;
    sections.functionConfig = {
      enable: Boolean(section?.enable),
      callbacks: (section?.callbacks ?? []).map((callback) => ({
        msgType: String(callback.msgType ?? ""),
        event: String(callback.event ?? ""),
        env: String(callback.env ?? ""),
        functionName: String(callback.functionName ?? ""),
        enable: Boolean(callback.enable),
      })),
    };
  }
  if (managed.containerConfig) {
    const section = api.container_config;
    sections.containerConfig = {
      enable: Boolean(section?.enable),
      qbaseEnv: String(section?.qbase_env ?? ""),
      qbaseContainerPath: String(section?.qbase_container_path ?? ""),
      textMode: section?.text_mode === 2 ? 2 : 1,
    };
  }
  return sections;
}

/** Reads the account's push configuration (`tcb/getcallbackconfig`), limited to the managed sections. */
export async function getCallbackConfig(appId: string, managed: Sections): Promise<Sections> {
  const answer = await session().call(appId, "getcallbackconfig", "/tcb/getcallbackconfig", {});
  if (!answer.data || typeof answer.data !== "object") {
    throw new WeChatApiError({ api: "getcallbackconfig", appId }, -1000, "answer carried no data");
  }
  return fromApi(answer.data as ApiCallbackConfig, managed);
}

/** Sends the given sections (`tcb/setcallbackconfig`); the sections left out stay as they are on the account. */
export async function setCallbackConfig(appId: string, sections: Sections): Promise<void> {
  const body = toApi(sections);
  if (!body.function_config && !body.container_config) return;
  await session().call(appId, "setcallbackconfig", "/tcb/setcallbackconfig", { ...body });
}

/** Callbacks compared as a set keyed by message type and event: their order carries no meaning for WeChat. */
function canonical(name: string, value: unknown): unknown {
  if (name !== "functionConfig" || !value || typeof value !== "object") return value;
  const section = value as FunctionConfig;
  if (!Array.isArray(section.callbacks)) return value;
  const key = (callback: FunctionConfig["callbacks"][number]) => `${callback.msgType}/${callback.event}`;
  return { ...section, callbacks: [...section.callbacks].sort((a, b) => key(a).localeCompare(key(b))) };
}

/** The sections of `wanted` that differ from `current` (compared as the diff compares them). */
function changedSections(current: Sections, wanted: Sections): Sections {
  const changed: Record<string, unknown> = {};
  for (const name of SECTIONS) {
    if (wanted[name] && !sameValue(canonical(name, current[name]), canonical(name, wanted[name]))) changed[name] = wanted[name];
  }
  return changed as Sections;
}

const idOf = (appId: string) => `${appId}/callback-config`;

/** Pulumi hands over the stack configuration (credentials, API URL, limits); nothing is called yet. */
export async function configure(request: { config?: ConfigSource }): Promise<void> {
  configureSession(request.config);
}

export async function check(_olds: Record<string, unknown>, news: Record<string, unknown>): Promise<CheckResult<CallbackConfigState>> {
  return checkWith(CallbackConfigInputs, news);
}

export async function diff(_id: string, olds: Record<string, unknown>, news: Record<string, unknown>): Promise<DiffResult> {
  return diffProperties<CallbackConfigState>(
    olds,
    news,
    { identity: ["authorizerAppId"], mutable: ["functionConfig", "containerConfig", "deleteBehavior"] },
    canonical,
  );
}

/**
 * Takes the managed sections over: reads them (kept as `previousConfig` for `restore`), then sends the sections
 * that differ from what is declared, and nothing when the account already agrees.
 */
export async function create(inputs: CallbackConfigState): Promise<CreateResult<CallbackConfigOutputs>> {
  const id = idOf(inputs.authorizerAppId);
  session().claimed.add(id);
  const previousConfig = await getCallbackConfig(inputs.authorizerAppId, inputs);
  try {
    await setCallbackConfig(inputs.authorizerAppId, changedSections(previousConfig, inputs));
  } catch (error) {
    // Keep the resource with what the account still holds, so `previousConfig` survives for `restore` and the
    // next `pulumi up` sends the declared sections again.
    throw new PartialFailure(id, { ...inputs, ...previousConfig, previousConfig }, error as Error);
  }
  return { id, outs: { ...inputs, previousConfig } };
}

/** Refresh: the managed sections as the account holds them now; differences are drift, fixed by the next up. */
export async function read(id: string, props: CallbackConfigOutputs): Promise<ReadResult<CallbackConfigOutputs>> {
  const current = await getCallbackConfig(props.authorizerAppId, props);
  return { id, props: { ...props, ...current } };
}

/**
 * Sends only the sections that changed. A section the program starts managing is read first, so that `restore`
 * can put it back too; a section it stops managing is left as it is on the account and forgotten.
 */
export async function update(
  id: string,
  olds: CallbackConfigOutputs,
  news: CallbackConfigState,
): Promise<UpdateResult<CallbackConfigOutputs>> {
  session().claimed.add(id);
  const previousConfig: Record<string, unknown> = {};
  const newlyManaged: Record<string, unknown> = {};
  for (const name of SECTIONS) {
    if (!news[name]) continue;
    if (olds.previousConfig?.[name]) previousConfig[name] = olds.previousConfig[name];
    else newlyManaged[name] = news[name];
  }
  const read = Object.keys(newlyManaged).length ? await getCallbackConfig(news.authorizerAppId, newlyManaged) : {};
  Object.assign(previousConfig, read);
  const current = { functionConfig: olds.functionConfig, containerConfig: olds.containerConfig, ...read };
  await setCallbackConfig(news.authorizerAppId, changedSections(current, news));
  return { outs: { ...news, previousConfig: previousConfig as Sections } };
}

/**
 * Lets go of the managed sections per `deleteBehavior`. Disable and restore always send, even when state says the
 * account is that way already: state may be older than the account. A configuration another resource took over in
 * this deployment (a rename) is left to it.
 */
async function deleteCallbackConfig(id: string, props: CallbackConfigOutputs): Promise<void> {
  if (session().claimed.has(id)) return;
  switch (props.deleteBehavior ?? "retain") {
    case "retain":
      return;
    case "disable":
      return setCallbackConfig(props.authorizerAppId, {
        functionConfig: props.functionConfig && { ...props.functionConfig, enable: false },
        containerConfig: props.containerConfig && { ...props.containerConfig, enable: false },
      });
    case "restore":
      return setCallbackConfig(props.authorizerAppId, {
        functionConfig: props.functionConfig && props.previousConfig?.functionConfig,
        containerConfig: props.containerConfig && props.previousConfig?.containerConfig,
      });
  }
}
export { deleteCallbackConfig as delete };
