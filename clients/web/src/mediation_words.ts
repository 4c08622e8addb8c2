// How the API's enum values read on the organisation and mediator pages, in plain English and
// sentence case (app.ts words() lower-cases every word, which would give "Nhs trust").
import { CareSetting, Nation, OrganisationKind, Profession, Sector } from "@gen/ppa/mediation/v1/common_pb";
import { AccreditationBody, ConflictKind, ConflictSource } from "@gen/ppa/mediation/v1/mediator_pb";

export const kNations: Array<[Nation, string]> = [
  [Nation.ENGLAND, "England"],
  [Nation.WALES, "Wales"],
  [Nation.NORTHERN_IRELAND, "Northern Ireland"],
];

export const kOrganisationKinds: Array<[OrganisationKind, string]> = [
  [OrganisationKind.NHS_TRUST, "NHS trust"],
  [OrganisationKind.GP_PRACTICE, "GP practice"],
  [OrganisationKind.DENTAL_PRACTICE, "Dental practice"],
  [OrganisationKind.PHARMACY, "Pharmacy"],
  [OrganisationKind.INDEPENDENT_PROVIDER, "Independent provider"],
  [OrganisationKind.HEALTH_BOARD, "Health board"],
  [OrganisationKind.OTHER, "Other"],
];

export const kCareSettings: Array<[CareSetting, string]> = [
  [CareSetting.PRIMARY, "Primary care"],
  [CareSetting.SECONDARY, "Secondary care"],
];

export const kSectors: Array<[Sector, string]> = [
  [Sector.PUBLIC, "Public (NHS)"],
  [Sector.INDEPENDENT, "Independent"],
];

export const kProfessions: Array<[Profession, string]> = [
  [Profession.DOCTOR, "Doctor"],
  [Profession.DENTIST, "Dentist"],
  [Profession.PHARMACIST, "Pharmacist"],
  [Profession.OTHER_HEALTHCARE_STAFF, "Other healthcare staff"],
  [Profession.MANAGER, "Manager"],
];

export const kAccreditationBodies: Array<[AccreditationBody, string]> = [
  [AccreditationBody.CIVIL_MEDIATION_COUNCIL, "Civil Mediation Council"],
  [AccreditationBody.COLLEGE_OF_MEDIATORS, "College of Mediators"],
  [AccreditationBody.OTHER, "Another body"],
];

export const kConflictKinds: Array<[ConflictKind, string]> = [
  [ConflictKind.ORGANISATION, "Organisation"],
  [ConflictKind.PERSON, "Person"],
  [ConflictKind.CASE, "Case"],
];

export const kWeekdays = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

// The label of `value` in `table`, or "Not known".
export function label<T>(table: Array<[T, string]>, value: T): string {
  return table.find(([v]) => v === value)?.[1] ?? "Not known";
}

// The choices of a select or radios: [String(value), label].
export function choices<T extends number>(table: Array<[T, string]>): Array<[string, string]> {
  return table.map(([value, text]) => [String(value), text]);
}

export function conflictSourceText(source: ConflictSource): string {
  if (source === ConflictSource.DECLARED) return "Declared";
  if (source === ConflictSource.DISCOVERED) return "Found when declining a case";
  return "Not known";
}

// "1 case", "3 cases".
export function count(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}
