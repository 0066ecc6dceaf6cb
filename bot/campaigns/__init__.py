"""Outbound campaigns on the GX CTI's batch calls (GX manual §46–§51, §38; docs/campaigns.md)."""
