// "Email reminders before sessions": whether the signed-in person (a mediator on its
// availability page, a party on its home page) is emailed a reminder before each of its
// sessions (NotificationService.GetReminderPreference and SetReminderPreference, for the token's
// own person). Invitations, changes and cancellations are sent whatever it says.
import { Code, ConnectError } from "@connectrpc/connect";

import { NotificationService } from "@gen/ppa/mediation/v1/notification_pb";

import { client, isSignedOut, messageOf } from "./api";
import { rerender } from "./app";
import { h } from "./dom";
import { actionForm, radios, valueOf } from "./forms";
import { noticeFor, section } from "./page_parts";

const kTitle = "Email reminders before sessions";

// The section for the page at `path`, which shows the banner after a change (takeNotice).
export async function remindersSection(path: string): Promise<HTMLElement> {
  let reminders: boolean;
  try {
    ({ reminders } = await client(NotificationService).getReminderPreference({}));
  } catch (error) {
    // No address on record: no email of any kind goes to this person.
    if (isSignedOut(error) || !(error instanceof ConnectError) || error.code !== Code.FailedPrecondition) throw error;
    return section("email-reminders", kTitle, h("p", { class: "nhsuk-body", id: "no-reminders" }, `${messageOf(error)}.`));
  }
  const form = actionForm(
    "reminders-form",
    [
      radios(
        "reminders",
        "Send me a reminder before each session",
        [
          ["on", "Yes"],
          ["off", "No"],
        ],
        { value: reminders ? "on" : "off", inline: true },
      ),
    ],
    "Save",
    async (f) => {
      const wanted = valueOf(f, "reminders") === "on";
      const saved = await client(NotificationService).setReminderPreference({ reminders: wanted });
      const removed = saved.removedReminders;
      noticeFor(
        path,
        saved.reminders ? "Email reminders are on." : "Email reminders are off.",
        ...(removed > 0 ? [`${removed} ${removed === 1 ? "reminder that was waiting is" : "reminders that were waiting are"} not sent.`] : []),
      );
      await rerender();
    },
    "nhsuk-button--secondary",
  );
  return section(
    "email-reminders",
    kTitle,
    h(
      "p",
      { class: "nhsuk-body" },
      "You are emailed an invitation when a session is booked for you, and told if it is moved or cancelled. Reminders come before each session too, unless you turn them off.",
    ),
    form,
  );
}
