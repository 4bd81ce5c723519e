"""Joint punishment through the public credit information sharing platform (联合惩戒):
`JointPunishmentWorkflow`, its steps (one table, `steps.py`), and credit repair, under the
two-tier rules of 2023 or Order 36 (`repair.py`, behind `workflow.patched(ORDER_36)`)."""
