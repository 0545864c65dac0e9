/**
 * The public shapes of both resources, as programs write them and state holds them, in plain TypeScript (and the
 * option values, the one constant they need).
 *
 * The zod schemas in authorizerOption.ts and callbackConfig.ts validate every input at run time; these types are
 * what a program's compiler sees, so that importing `pulumi-wechat` brings no zod declarations into a user's build
 * (older `pulumi new` templates compile with library checks on and `moduleResolution: node`). Each resource file
 * checks at compile time that its schema accepts and produces exactly these types, so the two cannot drift apart.
 */

/** The option values WeChat accepts, per option (the API's strings). */
export const OPTION_VALUES = {
  /** Geographic location reporting: 0 none, 1 when a session is entered, 2 every 5 seconds. */
  location_report: ["0", "1", "2"],
  /** Speech recognition: 0 off, 1 on. */
  voice_recognize: ["0", "1"],
  /** Multi-customer service: 0 off, 1 on. */
  customer_service: ["0", "1"],
} as const;

/** The options of an authorized account. */
export type OptionName = keyof typeof OPTION_VALUES;

/** The inputs of an `AuthorizerOption`. */
export interface AuthorizerOptionArgs {
  /** The authorized account (wx followed by 16 lowercase hex characters). Changing it replaces the resource. */
  authorizerAppId: string;
  /** Which option: `location_report`, `voice_recognize` or `customer_service`. Changing it replaces the resource. */
  optionName: OptionName;
  /**
   * The value, as a number or the API's string: `location_report` 0 (off), 1 (on entering a session),
   * 2 (every 5 seconds); `voice_recognize` and `customer_service` 0 (off) or 1 (on). Stored as the API's string.
   */
  optionValue: string | number;
  /**
   * What `pulumi destroy` (or removing the resource) does to the account: `retain` leaves the value as it is
   * (default), `reset` sets it to 0, `restore` puts back the value the account had before this resource took over.
   */
  deleteBehavior?: "retain" | "reset" | "restore";
}

/** The outputs of an `AuthorizerOption`: its inputs, normalized, and the value found before it took the option over. */
export interface AuthorizerOptionOutputs {
  readonly authorizerAppId: string;
  readonly optionName: OptionName;
  /** The value as the API's string, e.g. "1". */
  readonly optionValue: string;
  readonly deleteBehavior: "retain" | "reset" | "restore";
  /** The option's value before this resource first set it; `deleteBehavior: "restore"` puts it back. */
  readonly previousValue: string;
}

/** One routing rule: messages of a type (and event) go to a cloud function. */
export interface CallbackArgs {
  /** The message type, as WeChat names it: `text`, `image`, `miniprogrampage`, `event`, ... */
  msgType: string;
  /** For `msgType: "event"`, the event name (e.g. `user_enter_tempsession`); empty or left out otherwise. */
  event?: string;
  /** The CloudBase environment of the function. */
  env: string;
  /** The cloud function that receives the messages. */
  functionName: string;
  /** Whether this rule is on. Default true. */
  enable?: boolean;
}

/** Cloud-function routing: the `function_config` section. */
export interface FunctionConfigArgs {
  /** Whether push to cloud functions is on. Default true. */
  enable?: boolean;
  /** The routing rules; at most one per message type and event, at most 100. */
  callbacks?: CallbackArgs[];
}

/** Cloud-hosting routing: the `container_config` section. */
export interface ContainerConfigArgs {
  /** Whether push to the container is on. Default true. */
  enable?: boolean;
  /** The CloudBase environment of the container service. */
  qbaseEnv: string;
  /** The path messages are posted to, starting with `/`, e.g. `/container-echo`. */
  qbaseContainerPath: string;
  /** The push format: 1 JSON, 2 XML. */
  textMode: 1 | 2;
}

/** The inputs of a `CallbackConfig`. */
export interface CallbackConfigArgs {
  /** The authorized account (wx followed by 16 lowercase hex characters). Changing it replaces the resource. */
  authorizerAppId: string;
  /** Routing to cloud functions. Left out: the account's function config is not managed (never sent). */
  functionConfig?: FunctionConfigArgs;
  /** Routing to a cloud-hosting container. Left out: the account's container config is not managed (never sent). */
  containerConfig?: ContainerConfigArgs;
  /**
   * What `pulumi destroy` (or removing the resource) does to the account: `retain` leaves it as it is (default),
   * `disable` sends the managed sections with `enable: false`, `restore` puts back what the account had before.
   */
  deleteBehavior?: "retain" | "disable" | "restore";
}

/** A routing rule as state holds it: every field present. */
export interface Callback {
  readonly msgType: string;
  readonly event: string;
  readonly env: string;
  readonly functionName: string;
  readonly enable: boolean;
}

/** The `function_config` section as state holds it. */
export interface FunctionConfig {
  readonly enable: boolean;
  readonly callbacks: Callback[];
}

/** The `container_config` section as state holds it. */
export interface ContainerConfig {
  readonly enable: boolean;
  readonly qbaseEnv: string;
  readonly qbaseContainerPath: string;
  readonly textMode: 1 | 2;
}

/** The managed sections of an account's push configuration. */
export interface CallbackSections {
  readonly functionConfig?: FunctionConfig;
  readonly containerConfig?: ContainerConfig;
}

/** The outputs of a `CallbackConfig`: its inputs, normalized, and what the account held before it took them over. */
export interface CallbackConfigOutputs extends CallbackSections {
  readonly authorizerAppId: string;
  readonly deleteBehavior: "retain" | "disable" | "restore";
  /** The managed sections as they were before this resource first set them; `deleteBehavior: "restore"` puts them back. */
  readonly previousConfig: CallbackSections;
}
