import { httpStatusError, parseRetryAfter, type DownloadError } from '../core/downloadError';
import { openRequest, type HttpResponse, type ScopedToken } from './http/httpClient';
import type { DownloadSettings } from './settings';

/** The file being downloaded, as the server has it: one place that builds its requests and reads their failures. */
export class RemoteFile {
  constructor(
    readonly url: string,
    private readonly auth: ScopedToken | undefined,
    /** A Hugging Face file: 401/403 then means "gated". */
    private readonly isHub: boolean,
    private readonly settings: () => DownloadSettings,
  ) {}

  request(signal: AbortSignal, headers?: Record<string, string>): Promise<HttpResponse> {
    const { stallTimeoutSeconds, transport } = this.settings();
    return openRequest({ url: this.url, headers, auth: this.auth, signal, headersTimeoutMs: stallTimeoutSeconds * 1000, transport });
  }

  /** The whole file, for a server without Range support. */
  async whole(signal: AbortSignal): Promise<HttpResponse> {
    const res = await this.request(signal);
    if (res.status !== 200) throw this.statusError(res);
    return res;
  }

  statusError(res: HttpResponse): DownloadError {
    res.body.destroy();
    return httpStatusError(res.status, res.url, this.isHub, parseRetryAfter(res.headers['retry-after']));
  }
}

/** Weak ETags cannot be used with If-Range. */
export function strongEtag(value: string | undefined): string | undefined {
  return value && !value.startsWith('W/') ? value : undefined;
}
