"""Sanctions, lifetime bans and joint punishment after a substantiated case.

- `bans/`: lifetime bans of the perpetrators and their direct managers, their correction
  (`BanCorrectionWorkflow`).
- `decisions/`: `EnforcementWorkflow`, one per substantiated case: the bans, then the lead
  department's decisions and re-inspections, and the start of a joint punishment.
- `credit/`: `JointPunishmentWorkflow` through the credit platform, its steps as one table
  (`steps.py`), and credit repair (two-tier rules, or Order 36 in `repair.py`).
- `texts.py`: the Chinese texts; `common.py`: what the activities share; `activities.py`:
  every activity of the family, for the workers.
"""
