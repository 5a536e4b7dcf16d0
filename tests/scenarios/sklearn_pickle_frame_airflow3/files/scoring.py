"""Scores open leads with the gradient-boosting model trained monthly."""
import joblib
import pandas as pd

MODEL_PATH = "/models/lead_scoring/gbm-current.joblib"
FEATURES = ["visits_30d", "emails_opened_30d", "company_size", "trial_days_used"]


def load_features():
    return pd.read_parquet("/data/leads/features.parquet")


def score_leads(**context):
    leads = load_features()
    print(f"loading model {MODEL_PATH}")
    # the model is trained by the monthly retrain DAG and stored with joblib
    model = joblib.load(MODEL_PATH)
    leads["score"] = model.predict_proba(leads[FEATURES])[:, 1]
    leads[["lead_id", "score"]].to_parquet("/data/leads/scores.parquet")
