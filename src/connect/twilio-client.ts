import RequestClient from 'twilio/lib/base/RequestClient';
import Twilio from 'twilio/lib/rest/Twilio';
import type { Config } from '../config.js';

/**
 * The `twilio` SDK's REST client for connect. Deep imports, as everywhere in src/ (the architecture test
 * refuses the package root, which the Worker must never bundle): `twilio/lib/rest/Twilio` is the very class
 * the root exports, so this Node-only command line needs no exception to the rule.
 *
 * The SDK builds every URL from Twilio's own hosts (api., messaging., verify.twilio.com) and has no base-URL
 * option (/work/research/twilio-contract.md §0); its `httpClient` option is where a request can be sent
 * elsewhere. This one rewrites the host and hands the request to the SDK's own RequestClient (axios,
 * unchanged): TWILIO_API_BASE_URL / TWILIO_VERIFY_BASE_URL for private clouds, loopback stand-ins in tests.
 */

export type TwilioClient = Twilio;

class RebasedRequestClient extends RequestClient {
  constructor(private readonly hosts: ReadonlyMap<string, string>) {
    super({ timeout: 30_000 });
  }

  override request<TData>(opts: RequestClient.RequestOptions<TData>) {
    const url = new URL(opts.uri);
    const base = this.hosts.get(url.origin);
    const uri = base ? `${base.replace(/\/+$/, '')}${url.pathname}${url.search}` : opts.uri;
    return super.request({ ...opts, uri });
  }
}

/** Twilio's hosts that configuration moves, as `https://host` → base URL. */
export function configuredHosts(
  config: Pick<Config, 'TWILIO_API_BASE_URL' | 'TWILIO_VERIFY_BASE_URL'>,
): Record<string, string> {
  const hosts: Record<string, string> = {};
  if (config.TWILIO_API_BASE_URL !== 'https://api.twilio.com')
    hosts['https://api.twilio.com'] = config.TWILIO_API_BASE_URL;
  if (config.TWILIO_VERIFY_BASE_URL !== 'https://verify.twilio.com')
    hosts['https://verify.twilio.com'] = config.TWILIO_VERIFY_BASE_URL;
  return hosts;
}

export function createTwilioClient(
  config: Pick<Config, 'TWILIO_ACCOUNT_SID' | 'TWILIO_AUTH_TOKEN'>,
  hosts: Record<string, string>,
): TwilioClient {
  return new Twilio(config.TWILIO_ACCOUNT_SID, config.TWILIO_AUTH_TOKEN, {
    httpClient: new RebasedRequestClient(new Map(Object.entries(hosts))),
    // The SDK reads TWILIO_* variables from `env` when it is not given: nothing but configuration here.
    env: {},
    autoRetry: false,
  });
}
