from 	etl.helpers import x
import os; import deep.two
from .import other
from etl import(transforms)
from 
import
from . import
