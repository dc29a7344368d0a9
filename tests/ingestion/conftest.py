"""Helpers for ingestion tests: small exchange folders written by the test itself."""

from __future__ import annotations

from pathlib import Path

import pytest

BASE = {
    "parties.csv": "code,name,party_type,country,qualification_status\n"
    "HOSP1,Hospital One,collection_site,JP,qualified\n"
    "MFG,Maker,manufacturer,JP,qualified\n",
    "donors.csv": "code,donor_type,age_years,sex,attr_bmi\nD1,allogeneic,34,female,22.1\n",
    "collections.csv": "din,donor,coi,party,tissue_source,collected_at,volume [L],viability\n"
    "A999921123456,D1,&/CHA999926000001,HOSP1,bone_marrow,"
    "2026-01-05T09:00:00+09:00,0.05,95\n",
    "batches.csv": "lot,product_type,process,process_version,din,site,status,started_at,"
    "parent_lots\n"
    "MSC-1,MSC,MSC-BM,2.1,A999921123456,MFG,in_process,2026-01-06T00:00:00Z,\n"
    "MSC-1F,MSC,MSC-BM,2.1,,MFG,planned,,MSC-1\n",
    "qc_results.csv": "lot,attribute,value,value_text,unit,sample_id,tested_at\n"
    "MSC-1,viability,93,,%,S1,2026-01-20T10:00:00+09:00\n"
    "MSC-1,cell_count,120,,1e6 cell,S1,2026-01-20T10:00:00+09:00\n"
    "MSC-1,mycoplasma,,negative,,S2,2026-01-21T10:00:00+09:00\n",
    "timeseries.csv": "lot,stage,variable,t,value,unit\n"
    "MSC-1,expansion,temperature,0,37,degC\n"
    "MSC-1,expansion,temperature,0.5,98.8,degF\n"
    "MSC-1,expansion,pH,0,7.2,1\n",
    "materials.csv": "code,name,category,supplier,lot_number,expiry,coa_endotoxin\n"
    "MED-A,Medium A,medium,Supplier A,A001,2027-01-31,0.1\n"
    "MED-A,Medium A,medium,Supplier A,A002,2027-03-31,0.2\n",
    "material_use.csv": "lot,stage,material,material_lot,quantity,unit\n"
    "MSC-1,expansion,MED-A,A001,0.5,L\n",
    "parameters.csv": "lot,stage,parameter,value,unit\nMSC-1,expansion,agitation,60,rpm\n",
    "shipments.csv": "code,subject_type,subject_ref,from_party,to_party,container_id,"
    "shipped_at,received_at,status\n"
    "SHP-1,collection,A999921123456,HOSP1,MFG,BOX-7,2026-01-05T10:00:00Z,"
    "2026-01-05T16:00:00Z,received\n",
    "shipment_logs.csv": "shipment,timestamp,temperature,shock\n"
    "SHP-1,2026-01-05T10:00:00Z,20.5,0.2\n"
    "SHP-1,2026-01-05T10:05:00Z,21.0,1.5\n"
    "SHP-1,2026-01-05T10:10:00Z,22.5,0.1\n",
    "deviations.csv": "number,lot,category,severity,description,status\n"
    "DEV-1,MSC-1,process,minor,Late feed by 2 h,open\n",
    "observations.csv": "lot,stage,observed_at,author,text,tags\n"
    "MSC-1,expansion,2026-01-08T03:00:00Z,op.sato,Foam on surface,"
    "foam;visual\n",
    "process/MSC-BM-2.1.yaml": (
        "name: MSC-BM\nversion: '2.1'\nproduct_type: MSC\nstages:\n"
        "  - name: expansion\n    parameters:\n"
        "      - {name: agitation, unit: rpm, class: CPP, target: 60, nor: [50, 70], "
        "par: [40, 80]}\n"
        "attributes:\n  - name: viability\n    unit: percent\n    specifications:\n"
        "      - {purpose: release, lower: 70}\n"
    ),
}


def write_folder(folder: Path, files: dict[str, str | bytes]) -> Path:
    """Write ``files`` (name -> text or bytes) into ``folder``."""
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder


@pytest.fixture
def exchange(tmp_path: Path) -> Path:
    """A valid exchange folder with every kind of table."""
    return write_folder(tmp_path / "exchange", BASE)
