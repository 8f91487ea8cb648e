-- Admins' corrections may weigh more in retraining.
ALTER TABLE feedback ADD COLUMN is_admin INTEGER NOT NULL DEFAULT 0;
