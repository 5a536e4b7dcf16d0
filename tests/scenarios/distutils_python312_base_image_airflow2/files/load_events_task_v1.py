"""Loads the day's clickstream events into the warehouse."""


def load_events(**context):
    # imported here: the flags module reads the environment of the worker
    from events.flags import feature_enabled

    if feature_enabled("EVENTS_DEDUP"):
        print("dedup enabled")
    print(f"loading events for {context['ds']}")
