/**
 * `pulumi-wechat/provider`: what a tool that drives the provider needs. Programs import the resource classes from
 * `pulumi-wechat`; Pulumi's host loads the two resource modules (`pulumi-wechat/provider/authorizer-option`,
 * `pulumi-wechat/provider/callback-config`) from their serialized form.
 */
import * as authorizerOption from "./authorizerOption";
import * as callbackConfig from "./callbackConfig";
import { Transport } from "./client";
import { dynamicProvider } from "./context";

export { authorizerOption, callbackConfig };
export { Transport, TransportFailure } from "./client";
export { WeChatAnswerError, WeChatApiError, WeChatConfigError, WeChatError, WeChatTokenCommandError, WeChatTransportError } from "./errors";

/** Both providers with another transport in place of HTTP: a benchmark measures everything but the exchange. */
export function providersWith(options: { transport: Transport }) {
  return {
    authorizerOption: dynamicProvider(authorizerOption.definition, options),
    callbackConfig: dynamicProvider(callbackConfig.definition, options),
  };
}
