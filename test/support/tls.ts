import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium } from './chromium.js';

/**
 * A throw-away self-signed certificate for localhost and 127.0.0.1 (made with the openssl CLI), and a
 * Chromium that trusts exactly that key (--ignore-certificate-errors-spki-list pins its SPKI hash; every
 * other certificate is still checked). For tests that need real HTTPS: Secure and SameSite=None cookies.
 */
export interface TestCert {
  key: string;
  cert: string;
  spkiSha256: string;
}

export function makeTestCert(): TestCert {
  const dir = mkdtempSync(join(tmpdir(), 'callerpop-tls-'));
  try {
    const keyPath = join(dir, 'key.pem');
    const certPath = join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '2',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
        '-keyout',
        keyPath,
        '-out',
        certPath,
      ],
      { stdio: 'ignore' },
    );
    const der = execFileSync('sh', [
      '-c',
      `openssl x509 -in "${certPath}" -pubkey -noout | openssl pkey -pubin -outform der`,
    ]);
    const spki = execFileSync('openssl', ['dgst', '-sha256', '-binary'], { input: der });
    return {
      key: readFileSync(keyPath, 'utf8'),
      cert: readFileSync(certPath, 'utf8'),
      spkiSha256: spki.toString('base64'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function launchChromiumTrusting(cert: TestCert): Promise<Browser> {
  return launchChromium({ extraArgs: [`--ignore-certificate-errors-spki-list=${cert.spkiSha256}`] });
}
