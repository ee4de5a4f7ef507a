"""The test files that kill the mutants of one area, by name (shared by several mutants)."""

U = ("tests/hardware/test_units.py", "tests/hardware/test_every_unit.py")
ENERGY = ("tests/engine/test_energy_accounting.py", "tests/hardware/test_energy.py")
TIMING = ("tests/engine/test_timing.py", "tests/engine/test_spatial_unroll.py")
CAUSAL = ("tests/engine/test_causal_skip.py",)
KERNEL = ("tests/mapper/test_capacity.py", "tests/mapper/test_kernel_twin.py")
SCALESIM = ("tests/mapper/test_scalesim.py",)
DRAM = ("tests/engine/test_dram_closed_forms.py", "tests/engine/test_dram_burst.py",
        "tests/engine/test_all_bank_activate.py")
LONG = ("tests/engine/test_long_streams.py", "tests/engine/test_steady_state.py")
MCU = ("tests/mapper/test_mcu_techniques.py", "tests/mapper/test_pools.py", "tests/mapper/test_models.py")
PASSES = ("tests/mapper/test_passes.py", "tests/mapper/test_capacity.py")
WORK = ("tests/workloads/test_flops_kv.py", "tests/workloads/test_zoo_params.py",
        "tests/workloads/test_properties.py")
PIMHOST = ("tests/engine/test_pim_pipeline_host.py",)
REFRESH8 = ("tests/engine/test_refresh_postponement.py",)
EQUIV = ("tests/engine/test_dram_equivalence.py",)
TILES = ("tests/engine/test_tile_loads_closed.py",)
NOCG = ("tests/engine/test_noc_grouping.py", "tests/engine/test_noc.py")
GAP = ("tests/engine/test_gap_shares.py", "tests/engine/test_gap_attribution.py")
HWLOAD = ("tests/hardware/test_annotations.py", "tests/hardware/test_loader.py", "tests/hardware/test_source_refs.py",
          "tests/hardware/test_bad_yaml.py")
HF = ("tests/workloads/test_hf_config.py",)
PCACHE = ("tests/mapper/test_cache_key_fields.py", "tests/mapper/test_persistent_cache.py")
POWER = ("tests/energy/test_power.py", "tests/energy/test_validation.py", "tests/energy/test_static_power.py")
GPUK = ("tests/engine/test_gpu_calibration.py", "tests/engine/test_software_stack.py",
        "tests/engine/test_calibration_holdout.py", "tests/engine/test_gpu_kernel_epilogues.py")
SERVE = ("tests/serving/test_metrics.py", "tests/serving/test_inputs.py", "tests/serving/test_theory.py", "tests/serving/test_conservation.py")
SYSTEM = ("tests/system/test_sub_batch_sizes.py", "tests/system/test_shared_memory_hold.py", "tests/system/test_system.py", "tests/system/test_edge_pim.py")
FLIP = ("tests/engine/test_controller_path.py::test_simulate_says_which_dram_model_ran",
        "tests/engine/test_controller_path.py::test_system_devices_take_the_dram_model",
        "tests/engine/test_controller_path.py::test_cli_help_names_the_default_dram_model",
        "tests/engine/test_controller_path.py::test_cli_dram_model_default_and_burst_everywhere")
