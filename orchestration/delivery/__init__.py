"""Delivery (issue 20): briefs, reports, alerts and buyer files sent by email (SMTP) and
Slack (incoming webhooks), each message recorded in the warehouse's outbox so that a rerun
sends nothing twice and a failed send is retried later.

- `settings.py`: the `delivery:` section of storeops.yml (recipients per kind, SMTP, Slack).
- `channels.py`: SMTP through the standard library, Slack through slack_sdk.
- `messages.py`: what is sent, composed from the warehouse and the run's files.
- `outbox.py`: `analytics.outbox` and the guarantee (at least once, with a dedupe key).
- `send.py`: one delivery pass (`deliver`), for a run, `storeops send` and the escalation
  sensor.

Pure: no Dagster imports; secrets only from the environment (orchestration.pull.credentials).
"""
