"""Every parameter of the simulator, in one place, with its source.

Numbers are typical literature values for the mechanism, rounded; where a source gives a
range, the value chosen is inside it. They make a plausible plant, not a calibrated model of
any one process. Change them here only: the mechanism modules read nothing else.

Sources
-------
- Rosso L, Lobry JR, Flandrois JP (1993) An unexpected correlation between cardinal
  temperatures of microbial growth highlighted by a new model. J Theor Biol 162:447-463
  (cardinal-temperature model with inflection, CTMI).
- Schop D, Janssen FW, van Rijn LD, et al. (2009) Growth, metabolism, and growth inhibitors of
  mesenchymal stem cells. Tissue Eng Part A 15:1877-1886 (glucose uptake, lactate yield,
  inhibition by lactate > ~35 mM and ammonium > ~2.4 mM).
- Stolzing A, Jones E, McGonagle D, Scutt A (2008) Age-related changes in human bone marrow-
  derived mesenchymal stem cells. Mech Ageing Dev 129:163-173; Baxter MA et al. (2004) Stem
  Cells 22:675-682 (slower growth and fewer doublings with donor age).
- Lu LL et al. (2006) Haematologica 91:1017-1026 (umbilical-cord MSC proliferate faster than
  bone-marrow MSC).
- Wagner W et al. (2008) Replicative senescence of mesenchymal stem cells: a continuous and
  organized process. PLoS One 3:e2213 (growth and function decline with doublings).
- Croughan MS, Hamel JF, Wang DIC (1987) Hydrodynamic effects on animal cells grown in
  microcarrier cultures. Biotechnol Bioeng 29:130-141 (damage when the Kolmogorov eddy length
  falls below about 2/3 of the microcarrier diameter); Zwietering TN (1958) Chem Eng Sci
  8:244-253 (just-suspended impeller speed).
- Mazur P (1984) Freezing of living cells: mechanisms and implications. Am J Physiol
  247:C125-C142 (two-factor hypothesis: inverted U of survival against cooling rate);
  Hunt CJ (2011) Cryopreservation of human stem cells for clinical application. Transfus Med
  Hemother 38:107-123 (optimum near -1 C/min, DMSO exposure before freezing costs viability);
  Morris GJ, Acton E (2013) Controlled ice nucleation in cryopreservation. Cryobiology
  66:85-92 (supercooling to -5..-15 C and the latent-heat release).
- Fehse B et al. (2004) Pois(s)on - it's a question of dose. Gene Ther 11:879-881 (Poisson
  integration: transduced fraction 1 - exp(-m), copies per transduced cell m / (1 - exp(-m))).
- Levine BL et al. (2017) Global manufacturing of CAR T cell therapy. Mol Ther Methods Clin
  Dev 4:92-101 (apheresis, selection, activation, transduction, 7-10 day expansion).
- Grieger JC, Soltys SM, Samulski RJ (2016) Production of recombinant adeno-associated virus
  vectors using suspension HEK293 cells and continuous harvest of vector from the culture
  media for GMP FIX and FLT1 clinical vector. Mol Ther 24:287-297 (PEI:DNA optimum near 2:1,
  titers 1e4-1e5 vg/cell, step yields); Wright JF (2014) Biomedicines 2:80-97 (empty capsids
  and their removal by anion exchange).
- domain.md of the project (transport conditions and ISBT 128; release specifications; USP
  <1079.2> mean kinetic temperature).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kinetics:
    """Unstructured growth kinetics of one cell type (per-cell rates, medium composition)."""

    mu_max_per_h: float
    death_per_h: float
    lysis_per_h: float
    ks_glucose_mm: float
    ki_lactate_mm: float
    ki_ammonia_mm: float
    glucose_uptake_pmol_per_cell_h: float
    lactate_per_glucose: float
    ammonia_pmol_per_cell_h: float
    ammonia_spontaneous_mm_per_h: float
    glucose_medium_mm: float
    t_min_c: float
    t_opt_c: float
    t_max_c: float
    oxygen_uptake_pmol_per_cell_h: float
    ph_start: float
    ph_per_mm_lactate: float
    starvation_death_per_h: float


#: MSC on microcarriers (Schop 2009 for uptake and inhibition; Rosso 1993 CTMI with
#: cardinal temperatures bracketing 37 C; doubling about 30-40 h in early passages).
MSC_KINETICS = Kinetics(
    mu_max_per_h=0.028,
    death_per_h=0.001,
    lysis_per_h=0.01,
    ks_glucose_mm=0.5,
    ki_lactate_mm=35.4,
    ki_ammonia_mm=2.4,
    glucose_uptake_pmol_per_cell_h=0.17,
    lactate_per_glucose=1.8,
    ammonia_pmol_per_cell_h=0.012,
    ammonia_spontaneous_mm_per_h=0.004,
    glucose_medium_mm=5.55,
    t_min_c=27.0,
    t_opt_c=37.5,
    t_max_c=41.0,
    oxygen_uptake_pmol_per_cell_h=0.04,
    ph_start=7.40,
    ph_per_mm_lactate=0.016,
    starvation_death_per_h=0.02,
)

#: Activated T cells in a rocking-motion bioreactor (Levine 2017: doubling about 24-36 h).
CART_KINETICS = Kinetics(
    mu_max_per_h=0.034,
    death_per_h=0.0008,
    lysis_per_h=0.02,
    ks_glucose_mm=0.8,
    ki_lactate_mm=40.0,
    ki_ammonia_mm=4.0,
    glucose_uptake_pmol_per_cell_h=0.012,
    lactate_per_glucose=1.6,
    ammonia_pmol_per_cell_h=0.001,
    ammonia_spontaneous_mm_per_h=0.004,
    glucose_medium_mm=11.0,
    t_min_c=27.0,
    t_opt_c=37.5,
    t_max_c=41.0,
    oxygen_uptake_pmol_per_cell_h=0.01,
    ph_start=7.30,
    ph_per_mm_lactate=0.012,
    starvation_death_per_h=0.03,
)

#: Suspension HEK293 (Grieger 2016: seeded 0.5e6/mL, transfected near 2e6/mL).
HEK_KINETICS = Kinetics(
    mu_max_per_h=0.029,
    death_per_h=0.002,
    lysis_per_h=0.02,
    ks_glucose_mm=0.8,
    ki_lactate_mm=40.0,
    ki_ammonia_mm=5.0,
    glucose_uptake_pmol_per_cell_h=0.010,
    lactate_per_glucose=1.5,
    ammonia_pmol_per_cell_h=0.001,
    ammonia_spontaneous_mm_per_h=0.004,
    glucose_medium_mm=30.0,
    t_min_c=27.0,
    t_opt_c=37.5,
    t_max_c=41.0,
    oxygen_uptake_pmol_per_cell_h=0.008,
    ph_start=7.20,
    ph_per_mm_lactate=0.008,
    starvation_death_per_h=0.03,
)

#: Air-saturated dissolved oxygen at 37 C in medium (mmol/L).
OXYGEN_SATURATION_MM = 0.21
#: Controller range: pure oxygen in the gas gives up to 1/0.21 of air saturation.
DO_MAX_PURE_O2_PERCENT = 476.0
#: Half-saturation of growth in dissolved oxygen (% air saturation).
KS_DO_PERCENT = 3.0


@dataclass(frozen=True)
class MscVessel:
    """Microcarrier stirred-tank bioreactor (Croughan 1987; Zwietering 1958)."""

    impeller_diameter_m: float = 0.05
    power_number: float = 1.5
    kinematic_viscosity_m2_s: float = 0.75e-6  # medium at 37 C
    microcarrier_diameter_um: float = 180.0  # Cytodex 1 mean diameter
    critical_eddy_fraction: float = 2.0 / 3.0  # of the microcarrier diameter (Croughan 1987)
    shear_death_per_h: float = 0.012
    just_suspended_rpm: float = 45.0
    suspension_width_rpm: float = 6.0
    surface_cm2_per_ml: float = 13.2  # 3 g/L Cytodex 1 at 4400 cm2/g
    confluence_cells_per_cm2: float = 4.5e4
    kla_per_h: float = 2.0
    kla_gas_failure_per_h: float = 0.05


MSC_VESSEL = MscVessel()


@dataclass(frozen=True)
class Donors:
    """Donor effects on starting material and growth (Stolzing 2008, Baxter 2004, Lu 2006)."""

    growth_loss_per_year: float = 0.006  # relative growth rate lost per year of age over 30
    growth_donor_sd: float = 0.08  # log-scale donor random effect on growth rate
    umbilical_cord_growth: float = 1.15  # relative to bone marrow
    pd_max_young: float = 50.0  # population doublings to senescence at age 0
    pd_max_loss_per_year: float = 0.3
    pd_before_process: float = 6.0  # doublings during isolation (P0)
    potency_donor_sd: float = 0.10
    msc_per_tnc_bone_marrow: float = 2e-5  # colony-forming MSC per nucleated cell
    msc_per_tnc_umbilical_cord: float = 1e-4
    p0_expansion_fold: float = 2000.0


DONORS = Donors()


@dataclass(frozen=True)
class Transport:
    """Container thermal model and transport damage (Newton cooling; domain.md)."""

    passive_tau_h: float = 6.0  # insulated box, time constant towards ambient after packs
    passive_pack_hold_h: float = 48.0  # gel-pack hold time at 22 C ambient
    active_tau_h: float = 0.5  # active shipper, time constant towards its set point
    dry_shipper_hold_h: float = 240.0  # LN2 dry shipper hold time (static)
    dry_shipper_tipped_fraction: float = 0.4  # tipped over, it keeps 40 % of its hold time
    open_tau_h: float = 0.7  # box left open on a dock
    loss_per_degree_hour: float = 0.0012  # fraction lost per (degC x h) outside the band
    loss_per_hour: float = 0.0015  # fresh cells in band, per hour since collection
    loss_per_shock: float = 0.006  # per shock over 10 g
    logger_interval_min: float = 5.0
    shock_rate_per_h: float = 0.08  # shocks above 4 g per hour of transit


TRANSPORT = Transport()


@dataclass(frozen=True)
class FreezeThaw:
    """Cryopreservation (Mazur 1984; Hunt 2011; Morris & Acton 2013)."""

    optimum_rate_c_per_min: float = 1.0
    survival_at_optimum: float = 0.93
    survival_log_width: float = 1.3  # SD of ln(rate) of the inverted U
    dmso_loss_per_h: float = 0.06  # fraction of viable cells lost per hour in DMSO at RT
    nucleation_mean_c: float = -8.0
    nucleation_sd_c: float = 2.0
    end_temperature_c: float = -100.0
    curve_interval_min: float = 1.0
    curve_duration_min: int = 150
    start_temperature_c: float = 4.0


FREEZE = FreezeThaw()


@dataclass(frozen=True)
class Transduction:
    """Lentiviral transduction of T cells (Fehse 2004)."""

    efficiency_per_moi: float = 0.22  # integrations per cell per unit MOI at full activation
    vector_lot_sd: float = 0.12
    activation_mean: float = 0.85
    process_change_factor: float = 1.3


TRANSDUCTION = Transduction()


@dataclass(frozen=True)
class AavProduction:
    """AAV triple transfection and purification (Grieger 2016; Wright 2014)."""

    vg_per_cell_max: float = 6e4
    pei_ratio_optimum: float = 2.0  # PEI:DNA (w/w)
    pei_ratio_log_width: float = 0.45
    dna_optimum_ug_per_1e6_cells: float = 1.0
    dna_log_width: float = 0.6
    density_effect_cells_per_ml: float = 2.5e6  # specific yield halves above this density
    full_fraction_crude: float = 0.22
    full_fraction_sd: float = 0.03
    clarification_yield: float = 0.85
    affinity_yield: float = 0.72
    aex_full_recovery: float = 0.80
    aex_empty_recovery: float = 0.12
    final_volume_ml_per_l: float = 2.0  # formulated volume per L of harvest
    host_dna_ng_per_1e6_cells: float = 6000.0
    host_dna_log_reduction: float = 6.1  # nuclease + affinity + AEX
    dose_volume_ml: float = 1.0
    process_change_affinity_yield: float = 0.80


AAV = AavProduction()
