"""Request bodies of the API (pydantic), one module per area.

Responses are the services' own ``to_dict()`` documents, described per route.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

#: A row id or number as the databases store it (32-bit signed integer, from 1).
RowId = Annotated[int, Field(ge=1, le=2_147_483_647)]
