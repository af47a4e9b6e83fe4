/**
 * The proxy for a URL from the environment, as curl, pip, npm and huggingface_hub read it: `https_proxy` /
 * `HTTPS_PROXY` for https, `http_proxy` / `HTTP_PROXY` for http (lower case wins), unless `NO_PROXY` /
 * `no_proxy` names the host. NO_PROXY entries are comma- or space-separated: `*` (everything), a host
 * (itself and its subdomains), `.example.com` or `*.example.com` (subdomains), optionally with `:port`.
 */
export function proxyFor(url: URL, env: NodeJS.ProcessEnv = process.env): URL | undefined {
  const raw = url.protocol === 'https:' ? env.https_proxy || env.HTTPS_PROXY : url.protocol === 'http:' ? env.http_proxy || env.HTTP_PROXY : undefined;
  if (!raw || bypassed(url, env.no_proxy ?? env.NO_PROXY ?? '')) return undefined;
  try {
    // A bare host:port means http://host:port, as curl reads it.
    const proxy = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`);
    return proxy.protocol === 'http:' || proxy.protocol === 'https:' ? proxy : undefined;
  } catch {
    return undefined;
  }
}

function bypassed(url: URL, noProxy: string): boolean {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return noProxy.split(/[\s,]+/).filter(Boolean).some((entry) => {
    if (entry === '*') return true;
    const m = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d+))?$/.exec(entry.trim().toLowerCase());
    if (!m) return false;
    const name = (m[1] ?? m[2]).replace(/^\*?\./, '.');
    if (m[3] && m[3] !== port) return false;
    return name.startsWith('.') ? host.endsWith(name) : host === name || host.endsWith(`.${name}`);
  });
}

/** The Proxy-Authorization header for a proxy URL with credentials (http://user:pass@proxy:3128). */
export function proxyAuthorization(proxy: URL): string | undefined {
  if (!proxy.username) return undefined;
  return `Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}`;
}
