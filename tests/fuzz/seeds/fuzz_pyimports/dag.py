from etl.transforms import (
    clean,  # c
    enrich as e,
)
from . import helpers
import etl.io.s3 as s3io
from common.util import \
    slugify
