// The mediator's work on a case, part 2: its confidential notes, the outcome agreement and the
// outcome with its follow-up. Each page reads the case first (GetCase), so a case the mediator
// is not allocated to reads as not found, exactly like a case that does not exist.
import { Role } from "@gen/ppa/mediation/v1/common_pb";

import type { Route } from "./app";
import { agreementPage } from "./mediator_work_agreement";
import { draftPage } from "./mediator_work_draft";
import { notePage, notesPage } from "./mediator_work_notes";
import { outcomePage } from "./mediator_work_outcome";

const kCase = "/app/cases/([1-9][0-9]*)";

export const mediatorWorkRoutes: Route[] = [
  { pattern: new RegExp(`^${kCase}/notes$`), roles: [Role.MEDIATOR], page: notesPage },
  { pattern: new RegExp(`^${kCase}/notes/([1-9][0-9]*)$`), roles: [Role.MEDIATOR], page: notePage },
  { pattern: new RegExp(`^${kCase}/agreement$`), roles: [Role.MEDIATOR], page: agreementPage },
  { pattern: new RegExp(`^${kCase}/agreement/draft$`), roles: [Role.MEDIATOR], page: draftPage },
  { pattern: new RegExp(`^${kCase}/outcome$`), roles: [Role.MEDIATOR], page: outcomePage },
];
