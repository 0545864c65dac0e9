/**
 * pulumi-wechat: WeChat Open Platform account settings as Pulumi resources.
 *
 * @example
 * import * as wechat from "pulumi-wechat";
 * new wechat.AuthorizerOption("voice", { authorizerAppId: "wx1234567890abcdef", optionName: "voice_recognize", optionValue: 1 });
 */
export { AuthorizerOption, AuthorizerOptionArgs } from "./authorizerOption";
export { CallbackConfig, CallbackConfigArgs } from "./callbackConfig";
export type {
  AuthorizerOptionOutputs,
  Callback,
  CallbackConfigOutputs,
  CallbackSections,
  ContainerConfig,
  FunctionConfig,
  OptionName,
} from "../provider/types";
export { OPTION_VALUES } from "../provider/types";
