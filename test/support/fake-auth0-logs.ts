/**
 * The tenant's log events behind the stand-in's `GET /api/v2/logs`, as documented in
 * main/docs/deploy-monitor/logs/retrieve-log-events-using-mgmt-api.mdx ("the page" below) and the OAS
 * (`paths./logs.get`, management-api-oas.json at 7025885).
 */

export interface FakeLog {
  /** logs-schema.json: "log_id": "Log id", at the top of the log object; required for every type. */
  log_id: string;
  type: string;
  date?: string;
  [field: string]: unknown;
}

/** Ids shaped like the page's example (56 digits, "90020211201185132572079310688835925971249535794074878050"). */
const ID_PREFIX = '900202608201200';

function compareIds(a: string, b: string): number {
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
  return a < b ? -1 : a > b ? 1 : 0;
}

export function createLogStore(initial: Partial<FakeLog>[]) {
  const items: FakeLog[] = [];
  let sequence = 0;
  const nextId = () => `${ID_PREFIX}${String(++sequence).padStart(56 - ID_PREFIX.length, '0')}`;

  function add(batch: Partial<FakeLog>[]): FakeLog[] {
    const added = batch.map((item) => ({ type: 's', ...item, log_id: item.log_id ?? nextId() }) as FakeLog);
    items.push(...added);
    // The page, "Retrieve logs by checkpoint": "The logs are ordered by the `log_id`".
    items.sort((a, b) => compareIds(a.log_id, b.log_id));
    return added;
  }
  add(initial);

  /** The answer to GET /api/v2/logs?… (`self` is the URL of the endpoint, for the Link header). */
  function list(
    url: URL,
    self: string,
  ): { body: unknown; headers: Record<string, string> } | { error: string } {
    const params = url.searchParams;
    const from = params.get('from');
    if (from !== null) {
      // The page: "Any parameter other than `from` and `take` will be ignored." OAS `take`: "Number of
      // entries to retrieve when using the `from` parameter. Default `50`, max `100`".
      const rawTake = params.get('take');
      const take = rawTake === null ? 50 : Number(rawTake);
      if (!Number.isInteger(take) || take < 1 || take > 100)
        return { error: 'Payload validation error: take must be an integer from 1 to 100' };
      // The page: "retrieve logs newer than a given `log_id`", "ordered by the `log_id`, rather than log
      // generation time"; "A JSON array of `0` to `100` logs"; when none are newer, "an empty array".
      const page = items.filter((item) => compareIds(item.log_id, from) > 0).slice(0, take);
      // The page, "Pagination": "An HTTP `Link` header with a `next` relation"; for an empty result it "will
      // match the same URL you used in the most recent request". What `next` holds otherwise is not
      // documented: here the last id returned.
      const next = `${self}?from=${encodeURIComponent(page.at(-1)?.log_id ?? from)}&take=${take}`;
      return { body: page, headers: { link: `<${next}>; rel="next"` } };
    }
    // "Retrieve logs by search criteria" (q is not modelled): page, per_page (≤ 100), sort `date:1|-1`;
    // OAS include_totals → { start, limit, length, total, logs }. The default order is not documented: newest first.
    const perPage = Number(params.get('per_page') ?? 50);
    if (!Number.isInteger(perPage) || perPage < 1 || perPage > 100)
      return { error: 'Payload validation error: per_page must be an integer from 1 to 100' };
    const pageNo = Number(params.get('page') ?? 0);
    const ascending = params.get('sort') === 'date:1';
    const byDate = [...items].sort((a, b) => {
      const d = Date.parse(a.date ?? '') - Date.parse(b.date ?? '');
      return (ascending ? 1 : -1) * (d || compareIds(a.log_id, b.log_id));
    });
    const slice = byDate.slice(pageNo * perPage, (pageNo + 1) * perPage);
    const body =
      params.get('include_totals') === 'true'
        ? { start: pageNo * perPage, limit: perPage, length: slice.length, total: items.length, logs: slice }
        : slice;
    return { body, headers: {} };
  }

  return { add, list, all: (): readonly FakeLog[] => items };
}
