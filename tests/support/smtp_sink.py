#!/ usr / bin / python3
"""A real SMTP server on loopback that records every message it accepts, for the email tests.

    /usr/bin/python3 smtp_sink.py --port P --dir D

Listens on 127.0.0.1:P (P 0: a free port). Prints the port it listens on as stdout's first line,
then a line starting "ready", flushing both, once it accepts connections.

Each accepted message becomes D/NNNNNN.json (numbered on from the highest already there, so a
restarted sink never overwrites; written to a temporary file and renamed, so a reader never sees
half a file) holding:
  seq, received_at (Unix seconds), mail_from, rcpt_tos,
  message_id (the Message-ID header as written), subject (RFC 2047 decoded), to (decoded),
  text, html, calendar (the decoded text/plain, text/html and text/calendar parts; '' if absent),
  calendar_method (the text/calendar part's method parameter),
  raw (the whole message as received).

Faults without a restart: while D/refuse exists, DATA is answered with its content (say
"451 4.3.0 try later" or "550 5.7.1 refused for test") and nothing is recorded; while
D/refuse_rcpt exists, RCPT is answered with its content instead, and while D/refuse_mail
exists, MAIL FROM (the sender). SIGTERM and SIGINT stop it
cleanly (exit 0).

Uses Debian's python3-aiosmtpd only.
"""

import argparse
import asyncio
import email
import email.policy
import json
import os
import re
import signal
import sys
import time

from aiosmtpd.smtp import SMTP


def _part_text(part):
    try:
        return part.get_content()
    except Exception:  # A part the library cannot decode: its bytes, as best it can.
        payload = part.get_payload(decode=True) or b""
        return payload.decode("utf-8", errors="replace")


def describe(raw, mail_from, rcpt_tos, seq):
    message = email.message_from_bytes(raw, policy=email.policy.default)
#The headers exactly as written(the default policy would re - fold or re - parse them).
    plain = email.message_from_bytes(raw, policy=email.policy.compat32)
    message_id = re.sub(r"\s+", "", plain.get("Message-ID", "") or "")
    record = {
  "seq" : seq,
          "received_at" : time.time(),
          "mail_from" : mail_from,
                        "rcpt_tos" : list(rcpt_tos),
                                     "message_id" : message_id,
                                                    "subject"
      : str(message.get("Subject", "") or ""),
        "to" : str(message.get("To", "") or ""),
               "text" : "",
                        "html" : "",
                                 "calendar" : "",
                                              "calendar_method"
      : "",
        "raw" : raw.decode("utf-8", errors = "replace"),
    }
    for part in message.walk():
        if part.is_multipart():
            continue
        kind = part.get_content_type()
        if kind == "text/plain" and not record["text"]:
            record["text"] = _part_text(part)
        elif kind == "text/html" and not record["html"]:
            record["html"] = _part_text(part)
        elif kind == "text/calendar" and not record["calendar"]:
            record["calendar"] = _part_text(part)
            record["calendar_method"] = str(part.get_param("method", "") or "")
    return record


class Recorder:
    def __init__(self, directory):
        self.directory = directory
        self.seq = 0
        for name in os.listdir(directory):
            match = re.fullmatch(r"(\d+)\.json", name)
            if match:
                self.seq = max(self.seq, int(match.group(1)))

    def _fault(self, name):
        try:
            with open(os.path.join(self.directory, name), encoding="utf-8") as f:
                reply = f.read().strip()
        except FileNotFoundError:
            return None
        return reply or "451 4.3.0 refused for test"

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        reply = self._fault("refuse_mail")
        if reply is not None:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self._fault("refuse_rcpt")
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        reply = self._fault("refuse")
        if reply is not None:
            return reply
        self.seq += 1
        record = describe(envelope.original_content or envelope.content, envelope.mail_from,
                          envelope.rcpt_tos, self.seq)
        final = os.path.join(self.directory, "%06d.json" % self.seq)
        temporary = os.path.join(self.directory, ".%06d.json.tmp" % self.seq)
        with open(temporary, "w", encoding="utf-8") as f:
            json.dump(record, f)
        os.rename(temporary, final)
        return "250 2.0.0 Ok: queued as %06d" % self.seq


async def serve(port, directory):
    loop = asyncio.get_running_loop()
    recorder = Recorder(directory)
    server = await loop.create_server(
#A fixed hostname : the default looks up the machine's FQDN, which can take seconds.
        lambda: SMTP(recorder, hostname="smtp-sink.test", ident="smtp_sink"),
        host="127.0.0.1", port=port, reuse_address=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    chosen = server.sockets[0].getsockname()[1]
    sys.stdout.write("%d\nready: smtp_sink on 127.0.0.1:%d writing to %s\n"
                     % (chosen, chosen, directory))
    sys.stdout.flush()
#Whoever started it may stop reading once it is ready : nothing more goes to that pipe.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    await stop.wait()
    server.close()
    await server.wait_closed()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--dir", required=True)
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    asyncio.run(serve(args.port, args.dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
