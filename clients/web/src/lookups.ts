// Names for ids: the organisations and mediators a page mentions, read once per page. Only
// CASE_SUPPORT, SENIOR_ADVISER and ADMIN read these lists (the pages using them are theirs).
import { MediatorService } from "@gen/ppa/mediation/v1/mediator_pb";
import { type Organisation, OrganisationService } from "@gen/ppa/mediation/v1/organisation_pb";

import { client } from "./api";

// Every organisation by id (paged through the API's page tokens).
export async function organisations(): Promise<Map<bigint, Organisation>> {
  const out = new Map<bigint, Organisation>();
  let pageToken = "";
  do {
    const page = await client(OrganisationService).listOrganisations({ pageSize: 500, pageToken });
    for (const o of page.organisations) out.set(o.id, o);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return out;
}

// Every mediator's name by id.
export async function mediatorNames(): Promise<Map<bigint, string>> {
  const out = new Map<bigint, string>();
  let pageToken = "";
  do {
    const page = await client(MediatorService).listMediators({ pageSize: 500, pageToken });
    for (const m of page.mediators) out.set(m.id, m.contact?.name ?? `Mediator ${m.id}`);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return out;
}
